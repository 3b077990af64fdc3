/**
 * The Upframe-lite pipeline on WebGPU, every step on the job's device: texture -> frame-tensor
 * ([0, 1]) -> encoder (ORT) -> flow(n -> n-1) on the LQ frames -> warp of the previous features
 * -> CFR (the WGSL cfr-attention kernel with the pack's weights) -> generator (ORT, tiled when the
 * plan says so, feathered blend) -> frame-tensor inverse -> texture. Tensors pass between our WGSL
 * and ORT as GPU buffers; nothing is read back except the finished frame on software adapters
 * (OutputMode, see frame-io.ts). Every buffer, uniform and bind group is made in the constructor.
 *
 * The previous frame's features and LQ tensor are kept by a GPU copy at the end of each frame
 * (64 + 12 bytes per LQ pixel) rather than by swapping two sets: the CFR kernel binds `current`
 * in its bind group and owns four scratch buffers, so a ping-pong would prepare it twice.
 * lite-cpu.ts is the same math on the CPU and the reference this file is tested against.
 */
import { outputPlacement } from './tiling.ts';
import { encodeCrop } from './buffer-crop.ts';
import { BufferPool } from '../gpu/pool.ts';
import { readbackCount } from '../gpu/readback.ts';
import { prepareCfr, uploadCfrWeights } from '../kernels/cfr-attention/cfr-attention.ts';
import { prepareFlow, type FlowProvider } from '../kernels/flow/flow.ts';
import {
  prepareFromTensor,
  prepareToTensor,
  type PreparedDispatch,
} from '../kernels/frame-tensor/frame-tensor.ts';
import { prepareAccumulate, prepareResolve } from '../kernels/tile-blend/tile-blend.ts';
import { prepareWarp } from '../kernels/warp/warp.ts';
import { UpframeError } from '../shared/errors.ts';
import type { EnhancerStats, FrameEnhancer } from './enhancer.ts';
import {
  LITE_FLOW,
  LITE_IO,
  type LiteParts,
  type LitePlan,
  type LiteSessions,
} from './lite-pack.ts';
import { gpuTensor, type OrtTensor } from './ort.ts';
import { FrameInput, FrameOutput, frameTimes, type OutputMode } from './frame-io.ts';
import type { PictureScan } from '../shared/deinterlace-rows.ts';

const STORAGE = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;

interface Encodable {
  encode(encoder: GPUCommandEncoder): void;
  destroy(): void;
}

interface GeneratorTile {
  readonly lq: PreparedDispatch;
  readonly window: { x: number; y: number; width: number; height: number };
  readonly blend: Encodable;
}

export class LiteGpuEnhancer implements FrameEnhancer {
  readonly backend = 'webgpu' as const;
  readonly outputWidth: number;
  readonly outputHeight: number;
  private readonly pool: BufferPool;
  private readonly owned: Encodable[] = [];
  private readonly input: FrameInput;
  private readonly output: FrameOutput;
  private readonly toTensor: PreparedDispatch;
  private readonly flow: FlowProvider | null;
  private readonly warp: Encodable;
  private readonly cfr: Encodable;
  private readonly finish: PreparedDispatch;
  private readonly weights: GPUBuffer;
  private readonly b: Record<
    'lq' | 'previousLq' | 'features' | 'previousFeatures' | 'flow' | 'warped' | 'fused' | 'hr',
    GPUBuffer
  >;
  private readonly encoderFeeds: Record<string, OrtTensor>;
  private readonly encoderFetches: Record<string, OrtTensor>;
  private readonly generatorFeeds: Record<string, OrtTensor>;
  private readonly generatorFetches: Record<string, OrtTensor>;
  /** Empty when one generator pass covers the frame. */
  private readonly tiles: GeneratorTile[];
  private readonly tileFused: GPUBuffer | null = null;
  private readonly blendTargets: GPUBuffer[] = [];
  private readonly resolve: Encodable | null = null;
  private frames = 0;
  private hasPrevious = false;
  private allocationsAtFirstFrame = -1;
  private readonly readbacksAtStart = readbackCount();

  constructor(
    private readonly device: GPUDevice,
    private readonly parts: LiteParts,
    private readonly sessions: LiteSessions,
    readonly plan: LitePlan,
    readonly outputMode: OutputMode,
    /** false: CFR fuses each frame with itself (no flow, no warp). */
    readonly temporal = true,
  ) {
    const { width: w, height: h, scale: s } = plan;
    const c = parts.channels;
    this.outputWidth = plan.outputWidth;
    this.outputHeight = plan.outputHeight;
    const limit = device.limits.maxTextureDimension2D;
    if (this.outputWidth > limit || this.outputHeight > limit) {
      throw new UpframeError(
        'RESOLUTION_TOO_LARGE',
        `The enhanced frame would be ${this.outputWidth}x${this.outputHeight}, larger than this GPU allows (${limit} pixels per side). Choose a smaller scale.`,
      );
    }
    this.pool = new BufferPool(device);
    const buf = (floats: number, label: string): GPUBuffer =>
      this.pool.acquire(floats * 4, STORAGE, `lite.${label}`);
    const own = <T extends Encodable>(k: T): T => {
      this.owned.push(k);
      return k;
    };
    this.input = new FrameInput(device, w, h);
    this.output = new FrameOutput(device, this.outputWidth, this.outputHeight, outputMode);

    const plane = w * h;
    const out = { width: this.outputWidth, height: this.outputHeight };
    const b = {
      lq: buf(3 * plane, 'lq'),
      previousLq: buf(3 * plane, 'previous-lq'),
      features: buf(c * plane, 'features'),
      previousFeatures: buf(c * plane, 'previous-features'),
      flow: buf(2 * plane, 'flow'),
      warped: buf(c * plane, 'warped'),
      fused: buf(c * plane, 'fused'),
      hr: buf(3 * out.width * out.height, 'hr'),
    };
    this.b = b;

    // 1. frame -> [0, 1] tensor -> encoder
    this.toTensor = own(
      prepareToTensor(device, this.input.texture, b.lq, {
        region: { x: 0, y: 0, width: w, height: h },
        range: '0,1',
      }),
    );
    this.encoderFeeds = { [LITE_IO.encoderIn]: gpuTensor(b.lq, [1, 3, h, w]) };
    this.encoderFetches = { [LITE_IO.encoderOut]: gpuTensor(b.features, [1, c, h, w]) };

    // 2-4. flow, warp of the previous features, CFR
    this.flow = temporal ? prepareFlow(device, { width: w, height: h, ...LITE_FLOW }) : null;
    this.warp = own(
      prepareWarp(
        device,
        { input: b.previousFeatures, flow: b.flow, output: b.warped },
        { width: w, height: h, channels: c },
      ),
    );
    this.weights = uploadCfrWeights(device, parts.cfr);
    this.cfr = own(
      prepareCfr(
        device,
        { current: b.features, reference: b.warped, weights: this.weights, output: b.fused },
        {
          inChannels: c,
          heads: parts.cfr.config.heads,
          headDim: parts.cfr.config.headDim,
          topK: parts.topK,
        },
        { width: w, height: h, temperature: parts.cfr.config.temperature, radius: parts.radius },
      ),
    );

    // 5. generator: one pass, or tiles cut from fused/the texture and blended into hr
    const { tiles, tileWidth: tw, tileHeight: th } = plan.tiles;
    const tileOutDims = [1, 3, th * s, tw * s];
    if (tiles.length === 1) {
      this.tiles = [];
      this.generatorFeeds = {
        [LITE_IO.generatorFused]: gpuTensor(b.fused, [1, c, h, w]),
        [LITE_IO.generatorLq]: gpuTensor(b.lq, [1, 3, h, w]),
      };
      this.generatorFetches = { [LITE_IO.generatorOut]: gpuTensor(b.hr, tileOutDims) };
    } else {
      const tileFused = buf(c * tw * th, 'tile-fused');
      const tileLq = buf(3 * tw * th, 'tile-lq');
      const tileHr = buf(3 * tw * s * th * s, 'tile-hr');
      const acc = buf(3 * out.width * out.height, 'hr-acc');
      const weight = buf(out.width * out.height, 'hr-weight');
      this.tileFused = tileFused;
      this.blendTargets = [acc, weight];
      this.generatorFeeds = {
        [LITE_IO.generatorFused]: gpuTensor(tileFused, [1, c, th, tw]),
        [LITE_IO.generatorLq]: gpuTensor(tileLq, [1, 3, th, tw]),
      };
      this.generatorFetches = { [LITE_IO.generatorOut]: gpuTensor(tileHr, tileOutDims) };
      this.tiles = tiles.map((tile) => {
        const window = { x: tile.x, y: tile.y, width: tw, height: th };
        return {
          window,
          lq: own(
            prepareToTensor(device, this.input.texture, tileLq, { region: window, range: '0,1' }),
          ),
          blend: own(
            prepareAccumulate(
              device,
              3,
              { tileOutput: tileHr, acc, weight },
              outputPlacement(tile, tw, th, s),
              out,
            ),
          ),
        };
      });
      this.resolve = own(prepareResolve(device, 3, { acc, weight, output: b.hr }, out));
    }
    this.finish = own(
      prepareFromTensor(device, b.hr, this.output.texture, {
        region: { x: 0, y: 0, ...out },
        range: '0,1',
      }),
    );
  }

  get name(): string {
    return this.parts.title;
  }

  /** Forget the previous frame (a cut): the next frame is its own reference. */
  reset(): void {
    this.hasPrevious = false;
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
    const { device, b, plan } = this;
    const { width: w, height: h } = plan;
    const c = this.parts.channels;
    await this.input.upload(frame);
    const front = device.createCommandEncoder({ label: 'lite.front' });
    this.toTensor.encode(front);
    device.queue.submit([front.finish()]);
    // ORT submits on the same queue, so queue order keeps the shared buffers consistent
    await this.sessions.encoder.run(this.encoderFeeds, this.encoderFetches);

    const mid = device.createCommandEncoder({ label: 'lite.cfr' });
    if (this.flow && this.hasPrevious) {
      await this.flow.encode(mid, b.lq, b.previousLq, b.flow);
      this.warp.encode(mid);
    } else {
      // the first frame (and every frame without temporal fusion) is its own reference
      mid.copyBufferToBuffer(b.features, 0, b.warped, 0, c * w * h * 4);
    }
    this.cfr.encode(mid);
    for (const target of this.blendTargets) mid.clearBuffer(target);
    device.queue.submit([mid.finish()]);

    if (this.tiles.length === 0) {
      await this.sessions.generator.run(this.generatorFeeds, this.generatorFetches);
    } else {
      for (const tile of this.tiles) {
        const before = device.createCommandEncoder({ label: 'lite.tile' });
        encodeCrop(before, b.fused, { width: w, height: h }, this.tileFused!, c, tile.window);
        tile.lq.encode(before);
        device.queue.submit([before.finish()]);
        await this.sessions.generator.run(this.generatorFeeds, this.generatorFetches);
        const after = device.createCommandEncoder({ label: 'lite.blend' });
        tile.blend.encode(after);
        device.queue.submit([after.finish()]);
      }
    }

    const encoder = device.createCommandEncoder({ label: 'lite.back' });
    this.resolve?.encode(encoder);
    this.finish.encode(encoder);
    if (this.temporal) {
      // the next frame's reference: these features, or what the CFR made of them (recurrent)
      const keep = this.parts.recurrent ? b.fused : b.features;
      encoder.copyBufferToBuffer(keep, 0, b.previousFeatures, 0, c * w * h * 4);
      encoder.copyBufferToBuffer(b.lq, 0, b.previousLq, 0, 3 * w * h * 4);
    }
    const out = await this.output.emit(encoder, frameTimes(frame), frame.colorSpace);
    this.hasPrevious = this.temporal;
    this.frames += 1;
    if (this.allocationsAtFirstFrame < 0)
      this.allocationsAtFirstFrame = this.pool.stats().allocations;
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
        this.weights.size +
        this.input.extraBytes +
        4 * (this.plan.width * this.plan.height + 2 * this.outputWidth * this.outputHeight),
    };
  }

  async close(): Promise<void> {
    for (const k of this.owned) k.destroy();
    this.flow?.destroy();
    this.input.destroy();
    this.output.destroy();
    this.weights.destroy();
    this.pool.destroy();
    await this.sessions.encoder.release();
    await this.sessions.generator.release();
  }
}
