import { getComputePipeline } from '../../gpu/pipeline-cache.ts';
import shader from './frame-tensor.wgsl?raw';

/** Value ranges a model may declare for its input or output tensor. */
export type TensorRange = '0,1' | '-1,1' | '0,255';

export const RANGE_AFFINE: Readonly<Record<TensorRange, { scale: number; offset: number }>> = {
  '0,1': { scale: 1, offset: 0 },
  '-1,1': { scale: 2, offset: -1 },
  '0,255': { scale: 255, offset: 0 },
};

export interface Region {
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
}

/** Fixed when the pipeline is built: the cache key. */
const WG_X = 16;
const WG_Y = 16;
const PARAMS_BYTES = 32;

/** Changes per dispatch: where the region is, which range, where in the buffer the tensor starts. */
export interface FrameTensorParams {
  readonly region: Region;
  readonly range: TensorRange;
  /** First float of the tensor inside the buffer. */
  readonly baseElement?: number;
}

function writeParams(device: GPUDevice, uniform: GPUBuffer, params: FrameTensorParams): void {
  const data = new ArrayBuffer(PARAMS_BYTES);
  const i32 = new Int32Array(data);
  const u32 = new Uint32Array(data);
  const f32 = new Float32Array(data);
  const { scale, offset } = RANGE_AFFINE[params.range];
  i32[0] = params.region.x;
  i32[1] = params.region.y;
  u32[2] = params.region.width;
  u32[3] = params.region.height;
  f32[4] = scale;
  f32[5] = offset;
  u32[6] = params.baseElement ?? 0;
  device.queue.writeBuffer(uniform, 0, data);
}

export function tensorElements(region: Region): number {
  return 3 * region.width * region.height;
}

/**
 * A prepared dispatch owns its uniform buffer and bind group, so a job builds it once and encodes
 * it every frame without allocating. Two dispatches in one command buffer never share a uniform.
 */
export interface PreparedDispatch {
  /** Rewrites the per-dispatch parameters (a queue write, no allocation). */
  update(params: FrameTensorParams): void;
  encode(encoder: GPUCommandEncoder): void;
  destroy(): void;
}

function prepare(
  device: GPUDevice,
  entryPoint: 'to_tensor' | 'from_tensor',
  resources: (uniform: GPUBuffer) => GPUBindGroupEntry[],
  params: FrameTensorParams,
): PreparedDispatch {
  const pipeline = getComputePipeline(device, {
    label: `frame-tensor.${entryPoint}`,
    code: shader,
    entryPoint,
    constants: { WG_X, WG_Y },
  });
  const uniform = device.createBuffer({
    label: `frame-tensor.${entryPoint}.params`,
    size: PARAMS_BYTES,
    usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST,
  });
  const bindGroup = device.createBindGroup({
    layout: pipeline.getBindGroupLayout(0),
    entries: resources(uniform),
  });
  let current = params;
  writeParams(device, uniform, current);
  return {
    update(next) {
      current = next;
      writeParams(device, uniform, current);
    },
    encode(encoder) {
      const pass = encoder.beginComputePass({ label: `frame-tensor.${entryPoint}` });
      pass.setPipeline(pipeline);
      pass.setBindGroup(0, bindGroup);
      pass.dispatchWorkgroups(
        Math.ceil(current.region.width / WG_X),
        Math.ceil(current.region.height / WG_Y),
      );
      pass.end();
    },
    destroy() {
      uniform.destroy();
    },
  };
}

/** RGBA8 texture (TEXTURE_BINDING) -> planar float32 tensor in `output` (STORAGE). */
export function prepareToTensor(
  device: GPUDevice,
  texture: GPUTexture,
  output: GPUBuffer,
  params: FrameTensorParams,
): PreparedDispatch {
  return prepare(
    device,
    'to_tensor',
    (uniform) => [
      { binding: 0, resource: texture.createView() },
      { binding: 1, resource: { buffer: output } },
      { binding: 2, resource: { buffer: uniform } },
    ],
    params,
  );
}

/** Planar float32 tensor in `input` (STORAGE) -> rgba8unorm texture (STORAGE_BINDING). */
export function prepareFromTensor(
  device: GPUDevice,
  input: GPUBuffer,
  texture: GPUTexture,
  params: FrameTensorParams,
): PreparedDispatch {
  return prepare(
    device,
    'from_tensor',
    (uniform) => [
      { binding: 0, resource: { buffer: input } },
      { binding: 1, resource: texture.createView() },
      { binding: 3, resource: { buffer: uniform } },
    ],
    params,
  );
}
