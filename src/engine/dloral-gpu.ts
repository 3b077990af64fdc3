/**
 * The DLoRAL pipeline on WebGPU (DESIGN.md "The DLoRAL pipeline, per frame n"), every step on the
 * job's device: frame-tensor -> bicubic x4 -> VAE encoder (ORT, tiled) -> bicubic 1/8 -> flow ->
 * warp z_{n-1} -> per latent tile: CFR, UNet (ORT) and the Gaussian blend of x0 = fused - UNet ->
 * VAE decoder (ORT, tiled) -> AdaIN -> (bicubic back to 4x) -> texture. Tensors move between our
 * WGSL and ORT as GPU buffers; tile windows are cut with buffer-to-buffer row copies. Nothing is
 * read back except the finished frame on software adapters (OutputMode, see frame-io.ts). Every
 * buffer, uniform and bind group is made in the constructor, so a frame only encodes and submits.
 * dloral-cpu.ts is the same math on the CPU and the reference this file is tested against.
 */
import { outputPlacement } from './tiling.ts';
import { encodeCrop } from './buffer-crop.ts';
import { BufferPool } from '../gpu/pool.ts';
import { readbackCount } from '../gpu/readback.ts';
import { prepareAdain, type PreparedAdain } from '../kernels/adain/adain.ts';
import { prepareBicubic, type PreparedBicubic } from '../kernels/bicubic/bicubic.ts';
import { prepareCfr, uploadCfrWeights } from '../kernels/cfr-attention/cfr-attention.ts';
import { prepareFlow, type FlowProvider } from '../kernels/flow/flow.ts';
import {
  prepareFromTensor,
  prepareToTensor,
  type PreparedDispatch,
} from '../kernels/frame-tensor/frame-tensor.ts';
import { prepareLatentBlend } from '../kernels/latent-blend/latent-blend.ts';
import { prepareAccumulate, prepareResolve } from '../kernels/tile-blend/tile-blend.ts';
import { prepareWarp } from '../kernels/warp/warp.ts';
import { UpframeError } from '../shared/errors.ts';
import { prepareStatsInput } from './dloral-area.ts';
import {
  DLORAL_FLOW,
  releaseDloralSessions,
  syncFeeds,
  type DloralSessions,
} from './dloral-cpu.ts';
import {
  ioName,
  type DloralGraph,
  type DloralMemoryPlan,
  type DloralParts,
  type VaeTilePlan,
} from './dloral-pack.ts';
import type { EnhancerStats, FrameEnhancer } from './enhancer.ts';
import { cpuTensor, gpuTensor, type OrtTensor, type Session } from './ort.ts';
import { FrameInput, FrameOutput, frameTimes, type OutputMode } from './frame-io.ts';
import { SpynetFlow } from './spynet-flow.ts';
import type { PictureScan } from '../shared/deinterlace-rows.ts';

const STORAGE = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;

interface Encodable {
  encode(encoder: GPUCommandEncoder): void;
  destroy(): void;
}

/** A graph run over VAE tiles: crop -> ORT -> feathered accumulate, or one direct run. */
interface TiledRun {
  run(): Promise<void>;
  destroy(): void;
}

export class DloralGpuEnhancer implements FrameEnhancer {
  readonly backend = 'webgpu' as const;
  readonly outputWidth: number;
  readonly outputHeight: number;
  private readonly pool: BufferPool;
  private readonly owned: Encodable[] = [];
  private readonly input: FrameInput;
  private readonly output: FrameOutput;
  private readonly front: Encodable[];
  private readonly encodeLatent: TiledRun;
  private readonly decodeImage: TiledRun;
  private readonly flow: FlowProvider;
  private readonly back: Encodable[];
  private readonly latentTile: (index: number) => Promise<void>;
  private readonly latentTileCount: number;
  private readonly x0Clear: GPUBuffer[];
  private readonly x0Resolve: Encodable;
  private readonly finish: PreparedDispatch;
  private readonly buffers: Record<
    'lq' | 'up' | 'latent' | 'previousLatent' | 'warped' | 'small' | 'previousSmall' | 'flow',
    GPUBuffer
  >;
  private readonly weights: GPUBuffer;
  private readonly promptBuffer: GPUBuffer;
  private frames = 0;
  private hasPrevious = false;
  private allocationsAtFirstFrame = -1;
  private readonly readbacksAtStart = readbackCount();

  constructor(
    private readonly device: GPUDevice,
    readonly name: string,
    private readonly parts: DloralParts,
    private readonly sessions: DloralSessions,
    readonly plan: DloralMemoryPlan,
    readonly outputMode: OutputMode,
  ) {
    const { extra, cfr } = parts;
    const g = plan.geometry;
    const lc = extra.latentChannels;
    const lw = g.latentWidth;
    const lh = g.latentHeight;
    const latentSize = { width: lw, height: lh };
    this.outputWidth = g.outputWidth;
    this.outputHeight = g.outputHeight;
    const limit = device.limits.maxTextureDimension2D;
    if (Math.max(g.outputWidth, g.outputHeight, g.width, g.height) > limit) {
      throw new UpframeError(
        'RESOLUTION_TOO_LARGE',
        `The enhanced frame would be ${g.outputWidth}x${g.outputHeight}, larger than this GPU allows (${limit} pixels per side).`,
      );
    }
    this.pool = new BufferPool(device);
    const buf = (floats: number, label: string): GPUBuffer =>
      this.pool.acquire(floats * 4, STORAGE, `dloral.${label}`);
    this.input = new FrameInput(device, g.inputWidth, g.inputHeight);
    this.output = new FrameOutput(device, g.outputWidth, g.outputHeight, outputMode);

    const plane = g.width * g.height;
    const latentPlane = lw * lh;
    const b = {
      lq: buf(3 * g.inputWidth * g.inputHeight, 'lq'),
      up: buf(3 * plane, 'up'),
      latent: buf(lc * latentPlane, 'latent'),
      previousLatent: buf(lc * latentPlane, 'previous-latent'),
      warped: buf(lc * latentPlane, 'warped'),
      small: buf(3 * latentPlane, 'small'),
      previousSmall: buf(3 * latentPlane, 'previous-small'),
      flow: buf(2 * latentPlane, 'flow'),
    };
    this.buffers = b;
    const own = <T extends Encodable>(k: T): T => {
      this.owned.push(k);
      return k;
    };

    // 1. frame -> [-1, 1] tensor -> bicubic to the processed size
    const toTensor = own(
      prepareToTensor(device, this.input.texture, b.lq, {
        region: { x: 0, y: 0, width: g.inputWidth, height: g.inputHeight },
        range: '-1,1',
      }),
    );
    const upsample: PreparedBicubic = own(
      prepareBicubic(device, b.lq, b.up, {
        channels: 3,
        inWidth: g.inputWidth,
        inHeight: g.inputHeight,
        outWidth: g.width,
        outHeight: g.height,
      }),
    );
    const shrink: PreparedBicubic = own(
      prepareBicubic(device, b.up, b.small, {
        channels: 3,
        inWidth: g.width,
        inHeight: g.height,
        outWidth: lw,
        outHeight: lh,
      }),
    );
    this.front = [toTensor, upsample, shrink];

    // 2. VAE encoder: pixels (x8) -> latents (x1)
    this.encodeLatent = this.tiledRun(
      sessions.encoder,
      extra.vaeEncoder,
      { buffer: b.up, channels: 3, scale: 8 },
      { buffer: b.latent, channels: lc, scale: 1 },
      plan.encoderTiles,
      latentSize,
      plan.encoderSync,
    );

    // 3-4. flow at latent size (the pack's SpyNet, or the WGSL Lucas-Kanade), then warp of z_{n-1}
    this.flow =
      sessions.spynet && extra.spynet
        ? new SpynetFlow(sessions.spynet, extra.spynet, lw, lh)
        : prepareFlow(device, { width: lw, height: lh, ...DLORAL_FLOW });
    const warp = own(
      prepareWarp(
        device,
        { input: b.previousLatent, flow: b.flow, output: b.warped },
        { width: lw, height: lh, channels: lc },
      ),
    );

    // 5-7. CFR + UNet over latent tiles, blended x0
    const lt = plan.latentTiles;
    const t = { width: lt.tileWidth, height: lt.tileHeight };
    const tp = t.width * t.height;
    const tCur = buf(lc * tp, 'tile-current');
    const tRef = buf(lc * tp, 'tile-reference');
    const fused = buf(lc * tp, 'tile-fused');
    const sample = buf(2 * lc * tp, 'tile-sample');
    const unetOut = buf(lc * tp, 'tile-unet-out');
    this.weights = uploadCfrWeights(device, cfr);
    const gauss = buf(tp, 'tile-weights');
    device.queue.writeBuffer(gauss, 0, lt.weights);
    const x0Acc = buf(lc * latentPlane, 'x0-acc');
    const x0Weight = buf(latentPlane, 'x0-weight');
    const x0 = buf(lc * latentPlane, 'x0');
    this.x0Clear = [x0Acc, x0Weight];
    const cfrKernel = own(
      prepareCfr(
        device,
        { current: tCur, reference: tRef, weights: this.weights, output: fused },
        {
          inChannels: lc,
          heads: cfr.config.heads,
          headDim: cfr.config.headDim,
          topK: extra.cfr.topK,
        },
        { width: t.width, height: t.height, temperature: cfr.config.temperature },
        // a 96x96 tile at 9 heads x 64 is ~50 G multiply-adds: split into dispatches of bounded
        // work (cfrBandRows) so no single one runs long enough to trip a GPU watchdog
        { bandRows: 'auto' },
      ),
    );
    const blends = lt.tiles.map((tile) =>
      own(
        prepareLatentBlend(
          device,
          lc,
          { a: fused, b: unetOut, weights: gauss, acc: x0Acc, weight: x0Weight },
          { ...tile, ...t },
          latentSize,
        ),
      ),
    );
    this.x0Resolve = own(
      prepareResolve(device, lc, { acc: x0Acc, weight: x0Weight, output: x0 }, latentSize),
    );
    const [, tokens, width] = extra.prompt.shape;
    this.promptBuffer = buf(tokens * width, 'prompt');
    device.queue.writeBuffer(this.promptBuffer, 0, parts.prompt);
    const [sampleName, timestepName, contextName] = extra.unet.inputs.map((i) => i.name);
    const unetFeeds: Record<string, OrtTensor> = {
      [sampleName ?? 'sample']: gpuTensor(sample, [1, 2 * lc, t.height, t.width]),
      [timestepName ?? 'timestep']: cpuTensor(new Float32Array([extra.timestep]), [1]),
      [contextName ?? 'encoder_hidden_states']: gpuTensor(this.promptBuffer, [1, tokens, width]),
    };
    const unetFetches = {
      [ioName(extra.unet, 'outputs')]: gpuTensor(unetOut, [1, lc, t.height, t.width]),
    };
    this.latentTileCount = lt.tiles.length;
    this.latentTile = async (index: number) => {
      const tile = lt.tiles[index]!;
      const win = { ...tile, ...t };
      const before = device.createCommandEncoder({ label: 'dloral.latent-tile' });
      encodeCrop(before, b.latent, latentSize, tCur, lc, win);
      encodeCrop(before, b.warped, latentSize, tRef, lc, win);
      cfrKernel.encode(before);
      before.copyBufferToBuffer(tRef, 0, sample, 0, lc * tp * 4);
      before.copyBufferToBuffer(fused, 0, sample, lc * tp * 4, lc * tp * 4);
      device.queue.submit([before.finish()]);
      // ORT submits on the same queue, so queue order keeps the tile buffers consistent
      await sessions.unet.run(unetFeeds, unetFetches);
      const after = device.createCommandEncoder({ label: 'dloral.blend' });
      blends[index]!.encode(after);
      device.queue.submit([after.finish()]);
    };

    // 8. VAE decoder: latents (x1) -> pixels (x8), clamped in the graph
    const decoded = buf(3 * plane, 'decoded');
    this.decodeImage = this.tiledRun(
      sessions.decoder,
      extra.vaeDecoder,
      { buffer: x0, channels: lc, scale: 1 },
      { buffer: decoded, channels: 3, scale: 8 },
      plan.decoderTiles,
      latentSize,
      plan.decoderSync,
    );

    // 9. AdaIN against the upsampled LQ frame, resize back when needed, to the texture
    const fixed = buf(3 * plane, 'fixed');
    const adain: PreparedAdain = own(
      prepareAdain(
        device,
        { content: decoded, reference: b.up, output: fixed },
        { channels: 3, width: g.width, height: g.height },
      ),
    );
    this.back = [warp, adain];
    let final = fixed;
    if (g.resizeBack) {
      final = buf(3 * g.outputWidth * g.outputHeight, 'resized');
      this.back.push(
        own(
          prepareBicubic(device, fixed, final, {
            channels: 3,
            inWidth: g.width,
            inHeight: g.height,
            outWidth: g.outputWidth,
            outHeight: g.outputHeight,
          }),
        ),
      );
    }
    this.finish = own(
      prepareFromTensor(device, final, this.output.texture, {
        region: { x: 0, y: 0, width: g.outputWidth, height: g.outputHeight },
        range: '-1,1',
      }),
    );
  }

  /**
   * A graph over VAE tiles. One tile covering the frame runs straight from `src` into `dst`;
   * otherwise each tile is cut out, run, and added with feathered weights, then resolved. With
   * `estimate` (the graph has the GroupNorm sync contract), a statistics pass on the frame
   * shrunk to one tile (dloral-area.ts) comes first and every tile normalises with its statistics, which
   * stay in a GPU buffer from the pass's fetch to the tiles' feed.
   */
  private tiledRun(
    session: Session,
    graph: DloralGraph,
    src: { buffer: GPUBuffer; channels: number; scale: number },
    dst: { buffer: GPUBuffer; channels: number; scale: number },
    tiles: VaeTilePlan,
    latentSize: { width: number; height: number },
    estimate: boolean,
  ): TiledRun {
    const { device } = this;
    const inputName = ioName(graph, 'inputs');
    const outputName = ioName(graph, 'outputs');
    const { tileWidth: tw, tileHeight: th } = tiles;
    const inDims = [1, src.channels, th * src.scale, tw * src.scale];
    const outDims = [1, dst.channels, th * dst.scale, tw * dst.scale];
    const sync = graph.groupNormSync;
    let plain: Record<string, OrtTensor> = {};
    let zeros: GPUBuffer | null = null;
    if (sync) {
      // WebGPU buffers start zeroed; the pool may hand back a used one, hence the clear
      zeros = this.pool.acquire(sync.count * 4, STORAGE, 'gn-stats-zeros');
      const clear = device.createCommandEncoder();
      clear.clearBuffer(zeros);
      device.queue.submit([clear.finish()]);
      plain = syncFeeds(
        graph,
        gpuTensor(zeros, [sync.count]),
        cpuTensor(new Float32Array([0]), []),
      );
    }
    if (tiles.tiles.length === 1) {
      const feeds = { [inputName]: gpuTensor(src.buffer, inDims), ...plain };
      const fetches = { [outputName]: gpuTensor(dst.buffer, outDims) };
      return {
        run: async () => {
          await session.run(feeds, fetches);
        },
        destroy: () => undefined,
      };
    }
    const tileIn = this.pool.acquire(
      inDims.reduce((a, v) => a * v, 4),
      STORAGE,
      'vae-tile-in',
    );
    const tileOut = this.pool.acquire(
      outDims.reduce((a, v) => a * v, 4),
      STORAGE,
      'vae-tile-out',
    );
    const s = dst.scale;
    const frameOut = { width: latentSize.width * s, height: latentSize.height * s };
    const acc = this.pool.acquire(dst.channels * frameOut.width * frameOut.height * 4, STORAGE);
    const weight = this.pool.acquire(frameOut.width * frameOut.height * 4, STORAGE);
    const slots = tiles.tiles.map((tile) =>
      prepareAccumulate(
        device,
        dst.channels,
        { tileOutput: tileOut, acc, weight },
        outputPlacement(tile, tw, th, s),
        frameOut,
      ),
    );
    const resolve = prepareResolve(
      device,
      dst.channels,
      { acc, weight, output: dst.buffer },
      frameOut,
    );
    const srcSize = { width: latentSize.width * src.scale, height: latentSize.height * src.scale };
    let statsPass: (() => Promise<void>) | null = null;
    let tileSync = plain;
    const owned: Encodable[] = [...slots, resolve];
    if (estimate && sync) {
      const stats = this.pool.acquire(sync.count * 4, STORAGE, 'gn-stats');
      const shrink = prepareStatsInput(device, src.buffer, tileIn, {
        channels: src.channels,
        inWidth: srcSize.width,
        inHeight: srcSize.height,
        outWidth: tw * src.scale,
        outHeight: th * src.scale,
      });
      owned.push(shrink);
      const feeds = { [inputName]: gpuTensor(tileIn, inDims), ...plain };
      // the pass's image/latent output is not used; tileOut is overwritten by the first tile
      const fetches = {
        [outputName]: gpuTensor(tileOut, outDims),
        [sync.statsOut]: gpuTensor(stats, [sync.count]),
      };
      statsPass = async () => {
        const before = device.createCommandEncoder({ label: 'dloral.gn-stats' });
        shrink.encode(before);
        device.queue.submit([before.finish()]);
        await session.run(feeds, fetches);
      };
      tileSync = syncFeeds(
        graph,
        gpuTensor(stats, [sync.count]),
        cpuTensor(new Float32Array([1]), []),
      );
    }
    const feeds = { [inputName]: gpuTensor(tileIn, inDims), ...tileSync };
    const fetches = { [outputName]: gpuTensor(tileOut, outDims) };
    return {
      run: async () => {
        if (statsPass) await statsPass();
        const clear = device.createCommandEncoder();
        clear.clearBuffer(acc);
        clear.clearBuffer(weight);
        device.queue.submit([clear.finish()]);
        for (const [i, tile] of tiles.tiles.entries()) {
          const before = device.createCommandEncoder();
          encodeCrop(before, src.buffer, srcSize, tileIn, src.channels, {
            x: tile.x * src.scale,
            y: tile.y * src.scale,
            width: tw * src.scale,
            height: th * src.scale,
          });
          device.queue.submit([before.finish()]);
          await session.run(feeds, fetches);
          const after = device.createCommandEncoder();
          slots[i]!.encode(after);
          device.queue.submit([after.finish()]);
        }
        const end = device.createCommandEncoder();
        resolve.encode(end);
        device.queue.submit([end.finish()]);
      },
      destroy: () => {
        for (const k of owned) k.destroy();
      },
    };
  }

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
    const { device, buffers: b } = this;
    const g = this.plan.geometry;
    await this.input.upload(frame);
    const first = device.createCommandEncoder({ label: 'dloral.front' });
    for (const k of this.front.slice(0, 2)) k.encode(first);
    device.queue.submit([first.finish()]);
    await this.encodeLatent.run();

    const latentBytes = this.parts.extra.latentChannels * g.latentWidth * g.latentHeight * 4;
    const smallBytes = 3 * g.latentWidth * g.latentHeight * 4;
    const shrink = device.createCommandEncoder({ label: 'dloral.shrink' });
    this.front[2]!.encode(shrink);
    if (!this.hasPrevious) {
      // frame 0 is its own reference
      shrink.copyBufferToBuffer(b.latent, 0, b.previousLatent, 0, latentBytes);
      shrink.copyBufferToBuffer(b.small, 0, b.previousSmall, 0, smallBytes);
    }
    // A SpyNet provider runs through ORT, which submits its own work: the frames it reads must be
    // on the queue before it, not in an encoder still open here.
    device.queue.submit([shrink.finish()]);
    const mid = device.createCommandEncoder({ label: 'dloral.flow' });
    await this.flow.encode(mid, b.small, b.previousSmall, b.flow);
    this.back[0]!.encode(mid); // warp
    for (const target of this.x0Clear) mid.clearBuffer(target);
    device.queue.submit([mid.finish()]);

    for (let i = 0; i < this.latentTileCount; i++) await this.latentTile(i);
    const resolve = device.createCommandEncoder({ label: 'dloral.x0' });
    this.x0Resolve.encode(resolve);
    device.queue.submit([resolve.finish()]);
    await this.decodeImage.run();

    const encoder = device.createCommandEncoder({ label: 'dloral.back' });
    for (const k of this.back.slice(1)) k.encode(encoder);
    this.finish.encode(encoder);
    encoder.copyBufferToBuffer(b.latent, 0, b.previousLatent, 0, latentBytes);
    encoder.copyBufferToBuffer(b.small, 0, b.previousSmall, 0, smallBytes);
    const out = await this.output.emit(encoder, frameTimes(frame), frame.colorSpace);
    this.frames += 1;
    this.hasPrevious = true;
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
      gpuBytes: pool.peakBytes + this.plan.weightBytes,
    };
  }

  async close(): Promise<void> {
    for (const k of this.owned) k.destroy();
    this.encodeLatent.destroy();
    this.decodeImage.destroy();
    this.flow.destroy();
    this.input.destroy();
    this.output.destroy();
    this.weights.destroy();
    this.pool.destroy();
    await releaseDloralSessions(this.sessions);
  }
}
