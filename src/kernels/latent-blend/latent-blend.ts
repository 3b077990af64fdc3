import { getComputePipeline } from '../../gpu/pipeline-cache.ts';
import shader from './latent-blend.wgsl?raw';

/** Fixed when the pipeline is built: the cache key (with the channel count). */
const WG = 16;
const PARAMS_BYTES = 32;

/** Per dispatch: where the tile lies in the frame (latent pixels). */
export interface LatentBlendTile {
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
}

export interface LatentBlendResources {
  /** [C, th, tw] tiles (STORAGE); the blend adds w * (a - b). */
  readonly a: GPUBuffer;
  readonly b: GPUBuffer;
  /** [th, tw] weight map (STORAGE). */
  readonly weights: GPUBuffer;
  /** [C, H, W] accumulator and [H, W] summed weights (STORAGE), cleared by the caller. */
  readonly acc: GPUBuffer;
  readonly weight: GPUBuffer;
}

export interface PreparedLatentBlend {
  update(tile: LatentBlendTile): void;
  encode(encoder: GPUCommandEncoder): void;
  destroy(): void;
}

function writeParams(
  device: GPUDevice,
  uniform: GPUBuffer,
  tile: LatentBlendTile,
  frame: { width: number; height: number },
): void {
  device.queue.writeBuffer(
    uniform,
    0,
    new Uint32Array([tile.x, tile.y, tile.width, tile.height, frame.width, frame.height, 0, 0]),
  );
}

/**
 * One tile slot of the blend: owns its uniform and bind group, so a job prepares one per tile and
 * encodes them all every frame without allocating.
 */
export function prepareLatentBlend(
  device: GPUDevice,
  channels: number,
  resources: LatentBlendResources,
  tile: LatentBlendTile,
  frame: { width: number; height: number },
): PreparedLatentBlend {
  const pipeline = getComputePipeline(device, {
    label: 'latent-blend.accumulate_diff',
    code: shader,
    entryPoint: 'accumulate_diff',
    constants: { WG, CHANNELS: channels },
  });
  const uniform = device.createBuffer({
    label: 'latent-blend.params',
    size: PARAMS_BYTES,
    usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST,
  });
  const bindGroup = device.createBindGroup({
    label: 'latent-blend',
    layout: pipeline.getBindGroupLayout(0),
    entries: [
      { binding: 0, resource: { buffer: resources.a } },
      { binding: 1, resource: { buffer: resources.b } },
      { binding: 2, resource: { buffer: resources.weights } },
      { binding: 3, resource: { buffer: resources.acc } },
      { binding: 4, resource: { buffer: resources.weight } },
      { binding: 5, resource: { buffer: uniform } },
    ],
  });
  let current = tile;
  writeParams(device, uniform, current, frame);
  return {
    update(next) {
      current = next;
      writeParams(device, uniform, current, frame);
    },
    encode(encoder) {
      const pass = encoder.beginComputePass({ label: 'latent-blend' });
      pass.setPipeline(pipeline);
      pass.setBindGroup(0, bindGroup);
      pass.dispatchWorkgroups(Math.ceil(current.width / WG), Math.ceil(current.height / WG));
      pass.end();
    },
    destroy() {
      uniform.destroy();
    },
  };
}
