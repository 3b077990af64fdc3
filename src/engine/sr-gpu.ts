/**
 * The zero-copy `sr` pipeline on WebGPU: VideoFrame -> texture -> frame-tensor (per tile) ->
 * ORT on GPU buffers -> tile-blend -> frame-tensor inverse -> texture -> VideoFrame (frame-io.ts
 * says how frames get on and off the GPU). Every buffer, texture and bind group is made once per
 * job; a frame only encodes and submits. With temporal fusion (temporal-cfr.ts) each frame is
 * first fused with the motion-compensated previous one and the tiles read the fused texture.
 */
import { BufferPool } from '../gpu/pool.ts';
import { readbackCount } from '../gpu/readback.ts';
import {
  prepareFromTensor,
  prepareToTensor,
  type PreparedDispatch,
} from '../kernels/frame-tensor/frame-tensor.ts';
import {
  prepareAccumulate,
  prepareResolve,
  type PreparedBlend,
} from '../kernels/tile-blend/tile-blend.ts';
import type { EnhancerStats, FrameEnhancer, SrModelSpec } from './enhancer.ts';
import { FrameInput, FrameOutput, frameTimes, type OutputMode } from './frame-io.ts';
import { gpuTensor, type OrtTensor, type Session } from './ort.ts';
import { TemporalFusionGpu } from './temporal-cfr.ts';
import { outputPlacement, type TilePlan } from './tiling.ts';
import type { PictureScan } from '../shared/deinterlace-rows.ts';

export { outputModeFor, type OutputMode } from './frame-io.ts';

const STORAGE = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;

interface TileSlot {
  readonly toTensor: PreparedDispatch;
  readonly blend: PreparedBlend | null;
}

export class SrGpuEnhancer implements FrameEnhancer {
  readonly backend = 'webgpu' as const;
  readonly outputWidth: number;
  readonly outputHeight: number;
  private readonly pool: BufferPool;
  private readonly input: FrameInput;
  private readonly output: FrameOutput;
  private readonly slots: TileSlot[];
  private readonly finish: PreparedDispatch;
  private readonly resolve: { encode(e: GPUCommandEncoder): void; destroy(): void } | null;
  private readonly clearTargets: GPUBuffer[];
  private readonly feeds: Record<string, OrtTensor>;
  private readonly fetches: Record<string, OrtTensor>;
  private readonly temporalFusion: TemporalFusionGpu | null;
  private frames = 0;
  private allocationsAtFirstFrame = -1;
  private readonly readbacksAtStart = readbackCount();

  constructor(
    private readonly device: GPUDevice,
    private readonly session: Session,
    private readonly spec: SrModelSpec,
    private readonly plan: TilePlan,
    readonly outputMode: OutputMode,
    /** Fuse each frame with the previous one (training-free CFR) before the model. */
    readonly temporal = false,
  ) {
    const s = spec.scale;
    const { frameWidth: w, frameHeight: h, tileWidth: tw, tileHeight: th } = plan;
    this.outputWidth = w * s;
    this.outputHeight = h * s;
    this.output = new FrameOutput(device, this.outputWidth, this.outputHeight, outputMode);
    this.input = new FrameInput(device, w, h);
    this.pool = new BufferPool(device);
    this.temporalFusion = temporal
      ? new TemporalFusionGpu(device, this.pool, this.input.texture, w, h)
      : null;
    const source = this.temporalFusion?.texture ?? this.input.texture;

    const tileIn = this.pool.acquire(3 * tw * th * 4, STORAGE);
    const tileOut = this.pool.acquire(3 * tw * s * th * s * 4, STORAGE);
    this.feeds = { [spec.inputName]: gpuTensor(tileIn, [1, 3, th, tw]) };
    this.fetches = { [spec.outputName]: gpuTensor(tileOut, [1, 3, th * s, tw * s]) };
    const single = plan.tiles.length === 1;
    const frameOut = { width: this.outputWidth, height: this.outputHeight };
    let finalTensor = tileOut;
    let acc: GPUBuffer | null = null;
    let weight: GPUBuffer | null = null;
    if (!single) {
      acc = this.pool.acquire(3 * frameOut.width * frameOut.height * 4, STORAGE);
      weight = this.pool.acquire(frameOut.width * frameOut.height * 4, STORAGE);
      finalTensor = this.pool.acquire(3 * frameOut.width * frameOut.height * 4, STORAGE);
    }
    this.clearTargets = acc && weight ? [acc, weight] : [];
    this.slots = plan.tiles.map((tile) => ({
      toTensor: prepareToTensor(device, source, tileIn, {
        region: { x: tile.x, y: tile.y, width: tw, height: th },
        range: spec.inputRange,
      }),
      blend:
        acc && weight
          ? prepareAccumulate(
              device,
              3,
              { tileOutput: tileOut, acc, weight },
              outputPlacement(tile, tw, th, s),
              frameOut,
            )
          : null,
    }));
    this.resolve =
      acc && weight
        ? prepareResolve(device, 3, { acc, weight, output: finalTensor }, frameOut)
        : null;
    this.finish = prepareFromTensor(device, finalTensor, this.output.texture, {
      region: { x: 0, y: 0, ...frameOut },
      range: spec.outputRange,
    });
  }

  get name(): string {
    return this.spec.name;
  }

  reset(): void {
    this.temporalFusion?.reset();
    this.input.reset();
  }

  setDeinterlace(fields: PictureScan | null): void {
    this.input.setDeinterlace(fields);
  }

  rememberFrame(frame: VideoFrame): Promise<void> {
    return this.input.remember(frame);
  }

  emitRgb(): void {
    this.output.sourceColour = false;
  }

  async process(frame: VideoFrame): Promise<VideoFrame> {
    const { device } = this;
    await this.input.upload(frame);
    if (this.clearTargets.length > 0 || this.temporalFusion) {
      const encoder = device.createCommandEncoder();
      await this.temporalFusion?.encode(encoder);
      for (const target of this.clearTargets) encoder.clearBuffer(target);
      device.queue.submit([encoder.finish()]);
    }
    for (const slot of this.slots) {
      const before = device.createCommandEncoder();
      slot.toTensor.encode(before);
      device.queue.submit([before.finish()]);
      // ORT submits its own work on the same queue, so queue order keeps tileIn/tileOut safe
      await this.session.run(this.feeds, this.fetches);
      if (slot.blend) {
        const after = device.createCommandEncoder();
        slot.blend.encode(after);
        device.queue.submit([after.finish()]);
      }
    }
    const encoder = device.createCommandEncoder();
    this.resolve?.encode(encoder);
    this.finish.encode(encoder);
    const out = await this.output.emit(encoder, frameTimes(frame), frame.colorSpace);
    this.frames += 1;
    if (this.frames === 1) this.allocationsAtFirstFrame = this.pool.stats().allocations;
    return out;
  }

  stats(): EnhancerStats {
    const pool = this.pool.stats();
    return {
      frames: this.frames,
      readbacks: readbackCount() - this.readbacksAtStart,
      allocationsAfterFirstFrame:
        this.allocationsAtFirstFrame < 0 ? 0 : pool.allocations - this.allocationsAtFirstFrame,
      gpuBytes:
        pool.peakBytes +
        (this.temporalFusion?.extraBytes ?? 0) +
        this.input.extraBytes +
        4 *
          (this.plan.frameWidth * this.plan.frameHeight + 2 * this.outputWidth * this.outputHeight),
    };
  }

  async close(): Promise<void> {
    for (const slot of this.slots) {
      slot.toTensor.destroy();
      slot.blend?.destroy();
    }
    this.resolve?.destroy();
    this.finish.destroy();
    this.temporalFusion?.destroy();
    this.input.destroy();
    this.output.destroy();
    this.pool.destroy();
    await this.session.release();
  }
}
