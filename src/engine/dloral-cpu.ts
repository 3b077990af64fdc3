/**
 * The DLoRAL pipeline on the CPU: ORT's wasm backend for the graphs and the kernels' CPU
 * references for everything else. It runs where WebGPU is missing, and it is the reference the
 * WebGPU pipeline (dloral-gpu.ts) must match frame by frame: the same steps in the same order,
 * DESIGN.md "The DLoRAL pipeline, per frame n".
 */
import { outputPlacement } from './tiling.ts';
import type { CpuTensorCore } from './cpu-frame-io.ts';
import { adainRef } from '../kernels/adain/adain.ref.ts';
import { bicubicRef } from '../kernels/bicubic/bicubic.ref.ts';
import { cfrRef } from '../kernels/cfr-attention/cfr-attention.ref.ts';
import { flowRef } from '../kernels/flow/flow.ref.ts';
import { accumulateDiffRef } from '../kernels/latent-blend/latent-blend.ref.ts';
import { accumulateRef, resolveRef } from '../kernels/tile-blend/tile-blend.ref.ts';
import { warpRef } from '../kernels/warp/warp.ref.ts';
import { UpframeError } from '../shared/errors.ts';
import { statsInputRef } from './dloral-area.ts';
import {
  ioName,
  readDloralPack,
  type DloralGraph,
  type DloralMemoryPlan,
  type DloralParts,
  type VaeTilePlan,
} from './dloral-pack.ts';
import { cpuTensor, Session, tensorData, type OrtTensor } from './ort.ts';
import type { LoadedPack } from './packs.ts';

/** LK flow settings for frames in [-1, 1] at latent size (lambda scaled by 4 for the range). */
export const DLORAL_FLOW = { channels: 3, lambda: 4e-3 } as const;

/** Copies a [C, th, tw] window at (x, y) out of a planar [C, H, W] tensor. */
export function cropPlanar(
  src: Float32Array,
  channels: number,
  width: number,
  height: number,
  x: number,
  y: number,
  tw: number,
  th: number,
): Float32Array<ArrayBuffer> {
  const out = new Float32Array(channels * tw * th);
  for (let c = 0; c < channels; c++)
    for (let j = 0; j < th; j++) {
      const from = (c * height + y + j) * width + x;
      out.set(src.subarray(from, from + tw), (c * th + j) * tw);
    }
  return out;
}

export interface DloralSessions {
  readonly encoder: Session;
  readonly unet: Session;
  readonly decoder: Session;
  /** The pack's SpyNet at latent size, when it ships one; otherwise the pipelines use LK flow. */
  readonly spynet?: Session;
}

/** Releases every session of a job (each once). */
export async function releaseDloralSessions(sessions: DloralSessions): Promise<void> {
  await sessions.encoder.release();
  await sessions.unet.release();
  await sessions.decoder.release();
  await sessions.spynet?.release();
}

export async function createDloralSessions(
  parts: DloralParts,
  options: {
    backend: 'webgpu' | 'wasm';
    device?: GPUDevice;
    plan: DloralMemoryPlan;
  },
): Promise<DloralSessions> {
  const { extra } = parts;
  const { plan } = options;
  const device = options.device ? { device: options.device } : {};
  const make = (path: string, name: string, dims: Record<string, number>) =>
    Session.create(parts.file(path), {
      backend: options.backend,
      name,
      freeDimensions: dims,
      ...device,
    });
  const enc = plan.encoderTiles;
  const dec = plan.decoderTiles;
  const lt = plan.latentTiles;
  const sessions = {
    encoder: await make(extra.vaeEncoder.path, 'VAE encoder', {
      H: enc.tileHeight * 8,
      W: enc.tileWidth * 8,
      h: enc.tileHeight,
      w: enc.tileWidth,
    }),
    unet: await make(extra.unet.path, 'UNet', { h: lt.tileHeight, w: lt.tileWidth }),
    decoder: await make(extra.vaeDecoder.path, 'VAE decoder', {
      h: dec.tileHeight,
      w: dec.tileWidth,
      H: dec.tileHeight * 8,
      W: dec.tileWidth * 8,
    }),
  };
  if (!extra.spynet) return sessions;
  const g = plan.geometry;
  const spynet = await make(extra.spynet.path, 'SpyNet', { h: g.latentHeight, w: g.latentWidth });
  return { ...sessions, spynet };
}

function output(result: Record<string, { dispose(): void }>, name: string): Float32Array {
  const t = result[name];
  if (!t) throw new UpframeError('INTERNAL', `Internal error: the model gave no "${name}".`);
  return tensorData(t as Parameters<typeof tensorData>[0]);
}

/** A VAE graph's session and the layout of its input and output (scale: pixels per latent pixel). */
export interface VaeGraphRun {
  readonly session: Session;
  readonly graph: DloralGraph;
  readonly src: { readonly channels: number; readonly scale: number };
  readonly dst: { readonly channels: number; readonly scale: number };
}

/**
 * Which GroupNorm statistics the VAE tiles normalise with: 'own' (each tile its own: plain
 * GroupNorm), 'estimate' (one statistics pass on the whole frame area-shrunk to the tile size
 * with its channel std restored, the released Tiled VAE's fast mode; see dloral-area.ts), or
 * given statistics (a graph's `statsOut` layout).
 */
export type VaeStats = 'own' | 'estimate' | Float32Array;

/** The sync inputs of a VAE graph: its declared names fed with `stats` and `mix`. */
export function syncFeeds(
  graph: DloralGraph,
  stats: OrtTensor,
  mix: OrtTensor,
): Record<string, OrtTensor> {
  const sync = graph.groupNormSync;
  return sync ? { [sync.statsIn]: stats, [sync.mix]: mix } : {};
}

/**
 * A VAE graph over the tiles of `tiles` on a frame of `latentSize` latent pixels: each tile cut
 * from `src`, run, and added with feathered weights (one tile covering the frame runs directly).
 * Returns the output and the statistics the tiles used: the estimated or given ones, or for a
 * single tile the graph's own (a whole-frame pass), or null without the sync contract.
 */
export async function runVaeTiled(
  run: VaeGraphRun,
  input: Float32Array,
  latentSize: { readonly width: number; readonly height: number },
  tiles: VaeTilePlan,
  stats: VaeStats,
): Promise<{ output: Float32Array; stats: Float32Array | null }> {
  const { session, graph, src, dst } = run;
  const sync = graph.groupNormSync;
  if (!sync && stats !== 'own') {
    throw new UpframeError('INTERNAL', `Internal error: ${graph.path} has no GroupNorm sync.`);
  }
  const inputName = ioName(graph, 'inputs');
  const outputName = ioName(graph, 'outputs');
  const { width: lw, height: lh } = latentSize;
  const { tileWidth: tw, tileHeight: th } = tiles;
  const inDims = [1, src.channels, th * src.scale, tw * src.scale];
  const zeros = cpuTensor(new Float32Array(sync?.count ?? 0), [sync?.count ?? 0]);
  const plain = syncFeeds(graph, zeros, cpuTensor(new Float32Array([0]), []));
  const pass = async (data: Float32Array, extra: Record<string, OrtTensor>) => {
    const result = await session.run({ [inputName]: cpuTensor(data, inDims), ...extra });
    return {
      output: output(result, outputName),
      stats: sync ? output(result, sync.statsOut) : null,
    };
  };
  if (tiles.tiles.length === 1) return await pass(input, plain);
  let given: Float32Array | null = null;
  if (stats === 'estimate') {
    const shrunk = statsInputRef(input, {
      channels: src.channels,
      inWidth: lw * src.scale,
      inHeight: lh * src.scale,
      outWidth: tw * src.scale,
      outHeight: th * src.scale,
    });
    given = (await pass(shrunk, plain)).stats;
  } else if (stats !== 'own') {
    given = stats;
  }
  const feeds = given
    ? syncFeeds(graph, cpuTensor(given, [given.length]), cpuTensor(new Float32Array([1]), []))
    : plain;
  const s = dst.scale;
  const frame = { width: lw * s, height: lh * s };
  const acc = new Float32Array(dst.channels * frame.width * frame.height);
  const weight = new Float32Array(frame.width * frame.height);
  for (const tile of tiles.tiles) {
    const crop = cropPlanar(
      input,
      src.channels,
      lw * src.scale,
      lh * src.scale,
      tile.x * src.scale,
      tile.y * src.scale,
      tw * src.scale,
      th * src.scale,
    );
    const out = (await pass(crop, feeds)).output;
    accumulateRef(dst.channels, out, acc, weight, outputPlacement(tile, tw, th, s), frame);
  }
  return { output: resolveRef(dst.channels, acc, weight, frame), stats: given };
}

/** One frame's tensors, exposed so tests can compare stages. */
export interface DloralCpuFrame {
  readonly latent: Float32Array;
  readonly x0: Float32Array;
  /** [3, outputHeight, outputWidth] in [-1, 1] (before 8-bit quantisation). */
  readonly image: Float32Array;
}

/** The per-frame math, independent of VideoFrame (Node tests and the enhancer share it). */
export class DloralCpuCore implements CpuTensorCore {
  private previousLatent: Float32Array | null = null;
  private previousSmall: Float32Array | null = null;

  constructor(
    private readonly parts: DloralParts,
    private readonly sessions: DloralSessions,
    readonly plan: DloralMemoryPlan,
  ) {}

  /** Forget the previous frame: the next one is its own reference. */
  reset(): void {
    this.previousLatent = null;
    this.previousSmall = null;
  }

  /** flow(current -> previous) at latent size: the pack's SpyNet when it has one, else LK. */
  private async flow(current: Float32Array, previous: Float32Array): Promise<Float32Array> {
    const { extra } = this.parts;
    const g = this.plan.geometry;
    const spynet = this.sessions.spynet;
    if (!spynet || !extra.spynet) {
      return flowRef(current, previous, {
        width: g.latentWidth,
        height: g.latentHeight,
        ...DLORAL_FLOW,
      });
    }
    const dims = [1, 3, g.latentHeight, g.latentWidth];
    const result = await spynet.run({
      [ioName(extra.spynet, 'inputs', 0)]: cpuTensor(current, dims),
      [ioName(extra.spynet, 'inputs', 1)]: cpuTensor(previous, dims),
    });
    return output(result, ioName(extra.spynet, 'outputs'));
  }

  /** `lq` is the input frame as planar RGB in [-1, 1]. */
  async process(lq: Float32Array): Promise<DloralCpuFrame> {
    const { extra, cfr, prompt } = this.parts;
    const g = this.plan.geometry;
    const lc = extra.latentChannels;
    const lw = g.latentWidth;
    const lh = g.latentHeight;
    // 1. bicubic upsample in [-1, 1] to the processed size
    const up = bicubicRef(lq, {
      channels: 3,
      inWidth: g.inputWidth,
      inHeight: g.inputHeight,
      outWidth: g.width,
      outHeight: g.height,
    });
    // 2. VAE encoder (mean x 0.18215 inside the graph)
    const latentSize = { width: lw, height: lh };
    const { output: latent } = await runVaeTiled(
      {
        session: this.sessions.encoder,
        graph: extra.vaeEncoder,
        src: { channels: 3, scale: 8 },
        dst: { channels: lc, scale: 1 },
      },
      up,
      latentSize,
      this.plan.encoderTiles,
      this.plan.encoderSync ? 'estimate' : 'own',
    );
    // 3. flow(current -> previous) on the upsampled frames at latent size; frame 0 is its own
    // reference
    const small = bicubicRef(up, {
      channels: 3,
      inWidth: g.width,
      inHeight: g.height,
      outWidth: lw,
      outHeight: lh,
    });
    const flow = await this.flow(small, this.previousSmall ?? small);
    // 4. warp z_{n-1}
    const warped = warpRef(this.previousLatent ?? latent, flow, {
      width: lw,
      height: lh,
      channels: lc,
    });
    // 5-7. CFR + UNet per latent tile, x0 = fused - UNet output, Gaussian blend
    const lt = this.plan.latentTiles;
    const t = { width: lt.tileWidth, height: lt.tileHeight };
    const tp = t.width * t.height;
    const acc = new Float32Array(lc * lw * lh);
    const weight = new Float32Array(lw * lh);
    const timestep = new Float32Array([extra.timestep]);
    const [, tokens, width] = extra.prompt.shape;
    for (const tile of lt.tiles) {
      const cur = cropPlanar(latent, lc, lw, lh, tile.x, tile.y, t.width, t.height);
      const ref = cropPlanar(warped, lc, lw, lh, tile.x, tile.y, t.width, t.height);
      const fused = cfrRef(cur, ref, cfr, {
        width: t.width,
        height: t.height,
        temperature: cfr.config.temperature,
        topK: extra.cfr.topK,
      });
      const sample = new Float32Array(2 * lc * tp);
      sample.set(ref, 0);
      sample.set(fused, lc * tp);
      const [sampleName, timestepName, contextName] = extra.unet.inputs.map((i) => i.name);
      const result = await this.sessions.unet.run({
        [sampleName!]: cpuTensor(sample, [1, 2 * lc, t.height, t.width]),
        [timestepName!]: cpuTensor(timestep, [1]),
        [contextName!]: cpuTensor(prompt, [1, tokens, width]),
      });
      const u = output(result, ioName(extra.unet, 'outputs'));
      accumulateDiffRef(
        lc,
        fused,
        u,
        lt.weights,
        acc,
        weight,
        { ...tile, ...t },
        {
          width: lw,
          height: lh,
        },
      );
    }
    const x0 = resolveRef(lc, acc, weight, { width: lw, height: lh });
    // 8. VAE decoder (divides by 0.18215 and clamps inside the graph)
    const { output: decoded } = await runVaeTiled(
      {
        session: this.sessions.decoder,
        graph: extra.vaeDecoder,
        src: { channels: lc, scale: 1 },
        dst: { channels: 3, scale: 8 },
      },
      x0,
      latentSize,
      this.plan.decoderTiles,
      this.plan.decoderSync ? 'estimate' : 'own',
    );
    // 9. AdaIN colour fix against the upsampled LQ frame
    let image = adainRef(decoded, up, { channels: 3, width: g.width, height: g.height });
    if (g.resizeBack) {
      image = bicubicRef(image, {
        channels: 3,
        inWidth: g.width,
        inHeight: g.height,
        outWidth: g.outputWidth,
        outHeight: g.outputHeight,
      });
    }
    this.previousLatent = latent;
    this.previousSmall = small;
    return { latent, x0, image };
  }

  /** CpuTensorCore: the output image of `process` alone. */
  async run(lq: Float32Array): Promise<Float32Array> {
    return (await this.process(lq)).image;
  }

  async release(): Promise<void> {
    await releaseDloralSessions(this.sessions);
  }
}

export async function createDloralCpuCore(
  pack: LoadedPack,
  plan: DloralMemoryPlan,
): Promise<DloralCpuCore> {
  const parts = readDloralPack(pack);
  const sessions = await createDloralSessions(parts, { backend: 'wasm', plan });
  return new DloralCpuCore(parts, sessions, plan);
}
