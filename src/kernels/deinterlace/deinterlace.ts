/**
 * The deinterlacing rule (shared/deinterlace-rows.ts) on the GPU: rgba8unorm frame textures in,
 * one rgba8unorm storage texture out (see deinterlace.wgsl).
 */
import { getComputePipeline } from '../../gpu/pipeline-cache.ts';
import shader from './deinterlace.wgsl?raw';

/** Fixed when the pipeline is built: the cache key. */
const WG_X = 16;
const WG_Y = 16;
const PARAMS_BYTES = 16;

export interface DeinterlaceTextures {
  /** The frame to deinterlace (TEXTURE_BINDING). */
  readonly cur: GPUTexture;
  /** The frame before it (TEXTURE_BINDING), read only when `encode` is told there is one. */
  readonly prev: GPUTexture;
  /** Where the result goes (STORAGE_BINDING, rgba8unorm), the size of `cur`. */
  readonly out: GPUTexture;
}

/**
 * Built once per texture set; `encode` neither allocates nor builds anything. Submit each
 * encoded pass before encoding the next (the flag is a queue write, which lands before the
 * next submit).
 */
export interface PreparedDeinterlace {
  /**
   * `hasPrevious` false: the first frame of a clip, interpolated from its own rows only.
   * `bottomFirst`: the bottom field comes first (its rows are kept, the top field's rebuilt).
   */
  encode(encoder: GPUCommandEncoder, hasPrevious: boolean, bottomFirst?: boolean): void;
  destroy(): void;
}

export function prepareDeinterlace(
  device: GPUDevice,
  textures: DeinterlaceTextures,
): PreparedDeinterlace {
  const { width, height } = textures.cur;
  const pipeline = getComputePipeline(device, {
    label: 'deinterlace',
    code: shader,
    entryPoint: 'deinterlace',
    constants: { WG_X, WG_Y },
  });
  const uniform = device.createBuffer({
    label: 'deinterlace.params',
    size: PARAMS_BYTES,
    usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST,
  });
  const bindGroup = device.createBindGroup({
    layout: pipeline.getBindGroupLayout(0),
    entries: [
      { binding: 0, resource: textures.cur.createView() },
      { binding: 1, resource: textures.prev.createView() },
      { binding: 2, resource: textures.out.createView() },
      { binding: 3, resource: { buffer: uniform } },
    ],
  });
  const params = new Uint32Array([width, height, 0, 0]);
  let written = '';
  return {
    encode(encoder, hasPrevious, bottomFirst = false) {
      params[2] = hasPrevious ? 1 : 0;
      params[3] = bottomFirst ? 1 : 0;
      // a queue write lands before any command buffer submitted after it
      const flags = `${params[2]}${params[3]}`;
      if (flags !== written) {
        device.queue.writeBuffer(uniform, 0, params);
        written = flags;
      }
      const pass = encoder.beginComputePass({ label: 'deinterlace' });
      pass.setPipeline(pipeline);
      pass.setBindGroup(0, bindGroup);
      pass.dispatchWorkgroups(Math.ceil(width / WG_X), Math.ceil(height / WG_Y));
      pass.end();
    },
    destroy() {
      uniform.destroy();
    },
  };
}
