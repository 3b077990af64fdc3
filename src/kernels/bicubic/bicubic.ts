import { getComputePipeline } from '../../gpu/pipeline-cache.ts';
import { UpframeError } from '../../shared/errors.ts';
import shader from './bicubic.wgsl?raw';

/** Fixed when the pipeline is built: the cache key. */
const WG_X = 16;
const WG_Y = 16;
const PARAMS_BYTES = 32;

/** Changes per dispatch: the sizes of the planar [C, H, W] input and [C, H2, W2] output. */
export interface BicubicParams {
  readonly channels: number;
  readonly inWidth: number;
  readonly inHeight: number;
  readonly outWidth: number;
  readonly outHeight: number;
  /**
   * PyTorch's `scale_factor` (x, y) when the caller resizes by a factor rather than to a size: the
   * source step is then 1 / factor instead of in / out (they differ when out = floor(in * factor)
   * is not exact). Omit it to match `F.interpolate(size=...)`.
   */
  readonly scaleFactor?: readonly [number, number];
}

/** Source pixels per output pixel, as PyTorch's area_pixel_compute_scale (f32). */
export function bicubicScale(params: BicubicParams): [number, number] {
  const f = params.scaleFactor;
  return [
    Math.fround(f ? 1 / f[0] : params.inWidth / params.outWidth),
    Math.fround(f ? 1 / f[1] : params.inHeight / params.outHeight),
  ];
}

export function bicubicOutputElements(params: BicubicParams): number {
  return params.channels * params.outWidth * params.outHeight;
}

function validate(params: BicubicParams): void {
  const sizes = [
    params.channels,
    params.inWidth,
    params.inHeight,
    params.outWidth,
    params.outHeight,
  ];
  if (!sizes.every((n) => Number.isInteger(n) && n > 0)) {
    throw new UpframeError(
      'INVALID_OPTION',
      'bicubic: channels and sizes must be positive integers',
    );
  }
}

function writeParams(device: GPUDevice, uniform: GPUBuffer, params: BicubicParams): void {
  const data = new ArrayBuffer(PARAMS_BYTES);
  const u32 = new Uint32Array(data);
  const f32 = new Float32Array(data);
  u32[0] = params.inWidth;
  u32[1] = params.inHeight;
  u32[2] = params.outWidth;
  u32[3] = params.outHeight;
  [f32[4], f32[5]] = bicubicScale(params);
  u32[6] = params.channels;
  device.queue.writeBuffer(uniform, 0, data);
}

export interface PreparedBicubic {
  /** Rewrites the sizes (a queue write, no allocation); the buffers must still be large enough. */
  update(params: BicubicParams): void;
  encode(encoder: GPUCommandEncoder): void;
  destroy(): void;
}

/** Planar float32 `input` [C, H, W] (STORAGE) -> `output` [C, H2, W2] (STORAGE). */
export function prepareBicubic(
  device: GPUDevice,
  input: GPUBuffer,
  output: GPUBuffer,
  params: BicubicParams,
): PreparedBicubic {
  validate(params);
  const pipeline = getComputePipeline(device, {
    label: 'bicubic',
    code: shader,
    entryPoint: 'main',
    constants: { WG_X, WG_Y },
  });
  const uniform = device.createBuffer({
    label: 'bicubic.params',
    size: PARAMS_BYTES,
    usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST,
  });
  const bindGroup = device.createBindGroup({
    layout: pipeline.getBindGroupLayout(0),
    entries: [
      { binding: 0, resource: { buffer: input } },
      { binding: 1, resource: { buffer: output } },
      { binding: 2, resource: { buffer: uniform } },
    ],
  });
  let current = params;
  writeParams(device, uniform, current);
  return {
    update(next) {
      validate(next);
      current = next;
      writeParams(device, uniform, current);
    },
    encode(encoder) {
      const pass = encoder.beginComputePass({ label: 'bicubic' });
      pass.setPipeline(pipeline);
      pass.setBindGroup(0, bindGroup);
      pass.dispatchWorkgroups(
        Math.ceil(current.outWidth / WG_X),
        Math.ceil(current.outHeight / WG_Y),
        current.channels,
      );
      pass.end();
    },
    destroy() {
      uniform.destroy();
    },
  };
}
