import { getComputePipeline } from '../../gpu/pipeline-cache.ts';
import { UpframeError } from '../../shared/errors.ts';
import shader from './warp.wgsl?raw';

/** Fixed when the pipeline is built: the cache key. */
const WG_X = 16;
const WG_Y = 16;
const WARP_PARAMS_BYTES = 16;
const RESIZE_PARAMS_BYTES = 32;

/**
 * Per dispatch: the size of the tensor and its channel count. `input` and `output` are planar
 * float32 [channels, height, width]; `flow` is [2, height, width] (dx plane, then dy plane).
 */
export interface WarpParams {
  readonly width: number;
  readonly height: number;
  readonly channels: number;
}

/** Per dispatch: a [2, inHeight, inWidth] flow becomes [2, outHeight, outWidth]. */
export interface FlowResizeParams {
  readonly inWidth: number;
  readonly inHeight: number;
  readonly outWidth: number;
  readonly outHeight: number;
}

/**
 * A prepared dispatch owns its uniform buffer and bind group, so a job builds it once and encodes
 * it every frame without allocating.
 */
export interface PreparedKernel<P> {
  /** Rewrites the per-dispatch parameters (a queue write, no allocation). */
  update(params: P): void;
  encode(encoder: GPUCommandEncoder): void;
  destroy(): void;
}

function checkSize(what: string, width: number, height: number): void {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new UpframeError('INVALID_OPTION', `${what}: size ${width}x${height} is not valid.`);
  }
}

/** Elements of a [channels, height, width] tensor. */
export function warpElements(params: WarpParams): number {
  return params.channels * params.width * params.height;
}

function writeWarpParams(device: GPUDevice, uniform: GPUBuffer, params: WarpParams): void {
  checkSize('warp', params.width, params.height);
  if (!Number.isInteger(params.channels) || params.channels < 1) {
    throw new UpframeError('INVALID_OPTION', `warp: channels ${params.channels} is not valid.`);
  }
  device.queue.writeBuffer(
    uniform,
    0,
    new Uint32Array([params.width, params.height, params.channels, 0]),
  );
}

/** f32 ratios exactly as PyTorch's upsample_bilinear2d and the vector scaling compute them. */
export function flowResizeFactors(params: FlowResizeParams): {
  ratioX: number;
  ratioY: number;
  scaleX: number;
  scaleY: number;
} {
  const f = Math.fround;
  return {
    ratioX: f(params.inWidth / params.outWidth),
    ratioY: f(params.inHeight / params.outHeight),
    scaleX: f(params.outWidth / params.inWidth),
    scaleY: f(params.outHeight / params.inHeight),
  };
}

function writeResizeParams(device: GPUDevice, uniform: GPUBuffer, params: FlowResizeParams): void {
  checkSize('resize_flow input', params.inWidth, params.inHeight);
  checkSize('resize_flow output', params.outWidth, params.outHeight);
  const data = new ArrayBuffer(RESIZE_PARAMS_BYTES);
  const u32 = new Uint32Array(data);
  const f32 = new Float32Array(data);
  const k = flowResizeFactors(params);
  u32[0] = params.inWidth;
  u32[1] = params.inHeight;
  u32[2] = params.outWidth;
  u32[3] = params.outHeight;
  f32[4] = k.ratioX;
  f32[5] = k.ratioY;
  f32[6] = k.scaleX;
  f32[7] = k.scaleY;
  device.queue.writeBuffer(uniform, 0, data);
}

function prepare<P>(
  device: GPUDevice,
  entryPoint: 'warp' | 'resize_flow',
  paramsBytes: number,
  resources: (uniform: GPUBuffer) => GPUBindGroupEntry[],
  write: (uniform: GPUBuffer, params: P) => void,
  grid: (params: P) => readonly [number, number],
  params: P,
): PreparedKernel<P> {
  const pipeline = getComputePipeline(device, {
    label: `warp.${entryPoint}`,
    code: shader,
    entryPoint,
    constants: { WG_X, WG_Y },
  });
  const uniform = device.createBuffer({
    label: `warp.${entryPoint}.params`,
    size: paramsBytes,
    usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST,
  });
  const bindGroup = device.createBindGroup({
    label: `warp.${entryPoint}`,
    layout: pipeline.getBindGroupLayout(0),
    entries: resources(uniform),
  });
  let current = params;
  write(uniform, current);
  return {
    update(next) {
      write(uniform, next);
      current = next;
    },
    encode(encoder) {
      const [w, h] = grid(current);
      const pass = encoder.beginComputePass({ label: `warp.${entryPoint}` });
      pass.setPipeline(pipeline);
      pass.setBindGroup(0, bindGroup);
      pass.dispatchWorkgroups(Math.ceil(w / WG_X), Math.ceil(h / WG_Y));
      pass.end();
    },
    destroy() {
      uniform.destroy();
    },
  };
}

/**
 * Backward warp (DLoRAL's flow_warp): output(c, y, x) = bilinear sample of `input` at
 * (x + dx, y + dy), zeros outside, align_corners=True. All three buffers are STORAGE;
 * `output` must not alias `input`.
 */
export function prepareWarp(
  device: GPUDevice,
  resources: { input: GPUBuffer; flow: GPUBuffer; output: GPUBuffer },
  params: WarpParams,
): PreparedKernel<WarpParams> {
  return prepare<WarpParams>(
    device,
    'warp',
    WARP_PARAMS_BYTES,
    (uniform) => [
      { binding: 0, resource: { buffer: resources.input } },
      { binding: 1, resource: { buffer: resources.flow } },
      { binding: 2, resource: { buffer: resources.output } },
      { binding: 3, resource: { buffer: uniform } },
    ],
    (uniform, p) => writeWarpParams(device, uniform, p),
    (p) => [p.width, p.height],
    params,
  );
}

/**
 * Resizes a flow field bilinearly (align_corners=False, like F.interpolate's default) and scales
 * the vectors: dx by outWidth / inWidth, dy by outHeight / inHeight.
 */
export function prepareFlowResize(
  device: GPUDevice,
  resources: { input: GPUBuffer; output: GPUBuffer },
  params: FlowResizeParams,
): PreparedKernel<FlowResizeParams> {
  return prepare<FlowResizeParams>(
    device,
    'resize_flow',
    RESIZE_PARAMS_BYTES,
    (uniform) => [
      { binding: 0, resource: { buffer: resources.input } },
      { binding: 1, resource: { buffer: resources.output } },
      { binding: 2, resource: { buffer: uniform } },
    ],
    (uniform, p) => writeResizeParams(device, uniform, p),
    (p) => [p.outWidth, p.outHeight],
    params,
  );
}
