import { getComputePipeline } from '../../gpu/pipeline-cache.ts';
import shader from './tile-blend.wgsl?raw';

const WG = 16;
const PARAMS_BYTES = 48;

/** Per dispatch: where the tile goes and how its edges fade (all in OUTPUT pixels). */
export interface BlendTile {
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
  readonly rampLeft: number;
  readonly rampRight: number;
  readonly rampTop: number;
  readonly rampBottom: number;
}

export interface FrameSize {
  readonly width: number;
  readonly height: number;
}

function writeParams(device: GPUDevice, uniform: GPUBuffer, tile: BlendTile, frame: FrameSize) {
  const data = new ArrayBuffer(PARAMS_BYTES);
  const u32 = new Uint32Array(data);
  const f32 = new Float32Array(data);
  u32.set([tile.x, tile.y, tile.width, tile.height, frame.width, frame.height]);
  f32.set([tile.rampLeft, tile.rampRight, tile.rampTop, tile.rampBottom], 8);
  device.queue.writeBuffer(uniform, 0, data);
}

export interface PreparedBlend {
  /** Rewrites the tile placement; call between submits, never twice within one command buffer. */
  update(tile: BlendTile): void;
  encode(encoder: GPUCommandEncoder): void;
  destroy(): void;
}

/**
 * Accumulates one tile output [C, th, tw] into `acc` [C, H, W] and `weight` [H, W]. A job keeps
 * one prepared blend per tile slot so a whole frame's tiles can go into one command buffer.
 */
export function prepareAccumulate(
  device: GPUDevice,
  channels: number,
  buffers: { tileOutput: GPUBuffer; acc: GPUBuffer; weight: GPUBuffer },
  tile: BlendTile,
  frame: FrameSize,
): PreparedBlend {
  const pipeline = getComputePipeline(device, {
    label: 'tile-blend.accumulate',
    code: shader,
    entryPoint: 'accumulate',
    constants: { WG, CHANNELS: channels },
  });
  const uniform = device.createBuffer({
    size: PARAMS_BYTES,
    usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST,
  });
  const bindGroup = device.createBindGroup({
    layout: pipeline.getBindGroupLayout(0),
    entries: [
      { binding: 0, resource: { buffer: buffers.tileOutput } },
      { binding: 1, resource: { buffer: buffers.acc } },
      { binding: 2, resource: { buffer: buffers.weight } },
      { binding: 3, resource: { buffer: uniform } },
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
      const pass = encoder.beginComputePass();
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

/** out [C, H, W] = acc / weight. */
export function prepareResolve(
  device: GPUDevice,
  channels: number,
  buffers: { acc: GPUBuffer; weight: GPUBuffer; output: GPUBuffer },
  frame: FrameSize,
): { encode(encoder: GPUCommandEncoder): void; destroy(): void } {
  const pipeline = getComputePipeline(device, {
    label: 'tile-blend.resolve',
    code: shader,
    entryPoint: 'resolve',
    constants: { WG, CHANNELS: channels },
  });
  const uniform = device.createBuffer({
    size: PARAMS_BYTES,
    usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST,
  });
  const whole = { x: 0, y: 0, ...frame, rampLeft: 0, rampRight: 0, rampTop: 0, rampBottom: 0 };
  writeParams(device, uniform, whole, frame);
  const bindGroup = device.createBindGroup({
    layout: pipeline.getBindGroupLayout(0),
    entries: [
      { binding: 0, resource: { buffer: buffers.acc } },
      { binding: 1, resource: { buffer: buffers.weight } },
      { binding: 2, resource: { buffer: buffers.output } },
      { binding: 3, resource: { buffer: uniform } },
    ],
  });
  return {
    encode(encoder) {
      const pass = encoder.beginComputePass();
      pass.setPipeline(pipeline);
      pass.setBindGroup(0, bindGroup);
      pass.dispatchWorkgroups(Math.ceil(frame.width / WG), Math.ceil(frame.height / WG));
      pass.end();
    },
    destroy() {
      uniform.destroy();
    },
  };
}
