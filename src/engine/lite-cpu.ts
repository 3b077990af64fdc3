/**
 * The Upframe-lite pipeline on the CPU: ORT's wasm backend for the encoder and the generator, the
 * kernels' CPU implementations for the rest (FlowCpu and CfrCpu, which equal flowRef and cfrRef
 * bit for bit, and warpRef). It runs where WebGPU is missing, and it is the reference lite-gpu.ts
 * must match: the same steps in the same order (models/lite/README.md, "Architecture and the
 * inference contract").
 */
import { outputPlacement } from './tiling.ts';
import type { CpuTensorCore } from './cpu-frame-io.ts';
import { CfrCpu } from '../kernels/cfr-attention/cfr-cpu.ts';
import { FlowCpu } from '../kernels/flow/flow-cpu.ts';
import { accumulateRef, resolveRef } from '../kernels/tile-blend/tile-blend.ref.ts';
import { warpRef } from '../kernels/warp/warp.ref.ts';
import { UpframeError } from '../shared/errors.ts';
import {
  createLiteSessions,
  cropPlanar,
  LITE_FLOW,
  LITE_IO,
  readLitePack,
  type LiteParts,
  type LitePlan,
  type LiteSessions,
} from './lite-pack.ts';
import { cpuTensor, tensorData, type OrtTensor } from './ort.ts';
import type { LoadedPack } from './packs.ts';

function output(result: Record<string, OrtTensor>, name: string): Float32Array {
  const t = result[name];
  if (!t) throw new UpframeError('INTERNAL', `Internal error: the model gave no "${name}".`);
  return tensorData(t);
}

/**
 * One frame's tensors, exposed so tests can compare stages. `flow`, `reference` (when it is not
 * `features`), `fused` and, for tiled plans, `hr` are the core's reused buffers: they are valid
 * until the next `process` call.
 */
export interface LiteCpuFrame {
  readonly features: Float32Array;
  /** flow(n -> n-1) [2, H, W], or null when the frame was its own reference. */
  readonly flow: Float32Array | null;
  readonly reference: Float32Array;
  readonly fused: Float32Array;
  /** [3, 4H, 4W] in [0, 1] (before 8-bit quantisation). */
  readonly hr: Float32Array;
}

/** The generator's tiling buffers, made once when the plan has more than one tile. */
interface TileBuffers {
  readonly fused: Float32Array<ArrayBuffer>;
  readonly lq: Float32Array<ArrayBuffer>;
  readonly acc: Float32Array<ArrayBuffer>;
  readonly weight: Float32Array<ArrayBuffer>;
  readonly hr: Float32Array<ArrayBuffer>;
}

/**
 * The per-frame math, independent of VideoFrame. Flow, warp and CFR run on buffers allocated
 * once per job (FlowCpu, CfrCpu, the warp target, the tile buffers); per frame only ORT's own
 * output tensors are new.
 */
export class LiteCpuCore implements CpuTensorCore {
  /** What frame n+1 warps: frame n's features, or its fused features for recurrent packs. */
  private previousFeatures: Float32Array | null = null;
  private readonly flow: FlowCpu | null;
  private readonly warped: Float32Array<ArrayBuffer>;
  /** Recurrent packs: frame n's fused features, copied (CfrCpu reuses its output buffer). */
  private readonly previousFused: Float32Array<ArrayBuffer> | null;
  private readonly cfr: CfrCpu;
  private readonly tileBuffers: TileBuffers | null;

  constructor(
    readonly parts: LiteParts,
    private readonly sessions: LiteSessions,
    readonly plan: LitePlan,
    /** false: CFR fuses each frame with itself (the trainer's "CFR disabled" evaluation). */
    readonly temporal = true,
  ) {
    const { width: w, height: h } = plan;
    const c = parts.channels;
    this.flow = temporal ? new FlowCpu({ width: w, height: h, ...LITE_FLOW }) : null;
    this.warped = new Float32Array(c * w * h);
    this.previousFused = temporal && parts.recurrent ? new Float32Array(c * w * h) : null;
    this.cfr = new CfrCpu(parts.cfr, {
      width: w,
      height: h,
      temperature: parts.cfr.config.temperature,
      topK: parts.topK,
      radius: parts.radius,
    });
    const { tiles } = plan;
    const tilePlane = tiles.tileWidth * tiles.tileHeight;
    const outPlane = plan.outputWidth * plan.outputHeight;
    this.tileBuffers =
      tiles.tiles.length > 1
        ? {
            fused: new Float32Array(c * tilePlane),
            lq: new Float32Array(3 * tilePlane),
            acc: new Float32Array(3 * outPlane),
            weight: new Float32Array(outPlane),
            hr: new Float32Array(3 * outPlane),
          }
        : null;
  }

  /** Forget the previous frame (a cut, or a new clip). */
  reset(): void {
    this.previousFeatures = null;
    this.flow?.reset();
  }

  /**
   * `lq` is the frame as planar RGB in [0, 1]. `injectedFlow` replaces the Lucas-Kanade flow
   * (tests feed the ground-truth flow a PyTorch reference was computed with).
   */
  async process(lq: Float32Array, injectedFlow?: Float32Array): Promise<LiteCpuFrame> {
    const { parts, plan } = this;
    const { width: w, height: h } = plan;
    const c = parts.channels;
    const size = { width: w, height: h };
    // 1. encoder on the whole frame
    const features = output(
      await this.sessions.encoder.run({ [LITE_IO.encoderIn]: cpuTensor(lq, [1, 3, h, w]) }),
      LITE_IO.encoderOut,
    );
    // 2-3. flow(n -> n-1) on the LQ frames (FlowCpu keeps frame n-1's pyramid), warp of the
    // previous features
    let flow: Float32Array | null = null;
    let reference = features;
    if (this.flow) {
      const computed = this.flow.next(lq, !injectedFlow);
      if (this.previousFeatures) {
        flow = injectedFlow ?? computed;
        if (!flow) throw new UpframeError('INTERNAL', 'Internal error: no flow for frame n - 1.');
        reference = warpRef(this.previousFeatures, flow, { ...size, channels: c }, this.warped);
      }
    }
    // 4. CFR
    const fused = this.cfr.run(features, reference);
    // 5. generator, tiled when the plan says so
    const hr = await this.generate(fused, lq, size);
    if (this.previousFused) {
      this.previousFused.set(fused);
      this.previousFeatures = this.previousFused;
    } else if (this.temporal) {
      this.previousFeatures = features;
    }
    return { features, flow, reference, fused, hr };
  }

  private async generate(
    fused: Float32Array,
    lq: Float32Array,
    size: { width: number; height: number },
  ): Promise<Float32Array> {
    const { tiles } = this.plan;
    const s = this.plan.scale;
    const c = this.parts.channels;
    const { tileWidth: tw, tileHeight: th } = tiles;
    const frameOut = { width: this.plan.outputWidth, height: this.plan.outputHeight };
    const b = this.tileBuffers;
    if (!b) {
      const result = await this.sessions.generator.run({
        [LITE_IO.generatorFused]: cpuTensor(fused, [1, c, th, tw]),
        [LITE_IO.generatorLq]: cpuTensor(lq, [1, 3, th, tw]),
      });
      return output(result, LITE_IO.generatorOut);
    }
    b.acc.fill(0);
    b.weight.fill(0);
    for (const tile of tiles.tiles) {
      const win = { x: tile.x, y: tile.y, width: tw, height: th };
      const result = await this.sessions.generator.run({
        [LITE_IO.generatorFused]: cpuTensor(cropPlanar(fused, c, size, win, b.fused), [
          1,
          c,
          th,
          tw,
        ]),
        [LITE_IO.generatorLq]: cpuTensor(cropPlanar(lq, 3, size, win, b.lq), [1, 3, th, tw]),
      });
      const out = output(result, LITE_IO.generatorOut);
      accumulateRef(3, out, b.acc, b.weight, outputPlacement(tile, tw, th, s), frameOut);
    }
    return resolveRef(3, b.acc, b.weight, frameOut, b.hr);
  }

  /** CpuTensorCore: the output of `process` alone. */
  async run(lq: Float32Array): Promise<Float32Array> {
    return (await this.process(lq)).hr;
  }

  async release(): Promise<void> {
    await this.sessions.encoder.release();
    await this.sessions.generator.release();
  }
}

export async function createLiteCpuCore(
  pack: LoadedPack,
  plan: (parts: LiteParts) => LitePlan,
  temporal = true,
): Promise<LiteCpuCore> {
  const parts = readLitePack(pack);
  const sessions = await createLiteSessions(parts, { backend: 'wasm' });
  return new LiteCpuCore(parts, sessions, plan(parts), temporal);
}
