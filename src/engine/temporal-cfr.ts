/**
 * Temporal fusion for `sr` packs: a training-free Cross-Frame Retrieval on the input frames,
 * run before the model (issue 6). Each frame n is fused with the previous FUSED frame, warped to
 * it by the Lucas-Kanade flow(n -> n-1), through the same cfr-attention kernel DLoRAL's CFR and
 * Upframe-lite use, with hand-set weights instead of learned ones:
 *
 *   features (temporal-features kernel): c = (R, G, B, 1, |c|^2, D, 0, 0),
 *                                        r = (R', G', B', |r|^2 + penalty (1 - valid), r - c, 0)
 *   Q = c (identity); K = (2R', 2G', 2B', -(|r|^2 + ...), 0...); V = r - c;
 *   tau(Q) = (|c|^2 - margin + slope D) / sqrt(8)
 *   => weight = ReLU((sim - tau) / T) = strength * max(0, 1 - (|c - r|^2 + slope D) / margin)
 *      (sim = <Q, K> / sqrt(8) = (|c|^2 - |c - r|^2) / sqrt(8); T = margin / (sqrt(8) strength))
 *   fused RGB = c + weight (r - c)      (one head, top-1, search radius 0: the aligned key)
 *
 * So a pixel is blended with its motion-compensated past when the two agree within `margin`
 * (noise, compression flicker), loosely on flat areas and strictly on detail (D, the local luma
 * variance, eats the margin), and not at all across occlusions, cuts or where the warp left the
 * frame. Because the reference is the previous fused frame, it is a recursive (IIR) filter.
 *
 * Radius 0 and top-1 are deliberate: with a wider search the selected key's value r_q - c_q is a
 * different pixel's temporal difference and adds that pixel's noise instead of averaging.
 */
import type { BufferPool } from '../gpu/pool.ts';
import { prepareCfr, uploadCfrWeights } from '../kernels/cfr-attention/cfr-attention.ts';
import type { CfrWeights } from '../kernels/cfr-attention/cfr-weights.ts';
import { FlowCpu } from '../kernels/flow/flow-cpu.ts';
import { prepareFlow, type FlowOptions, type FlowProvider } from '../kernels/flow/flow.ts';
import {
  prepareFromTensor,
  prepareToTensor,
  type PreparedDispatch,
} from '../kernels/frame-tensor/frame-tensor.ts';
import { rgbaToTensorRef, tensorToRgbaRef } from '../kernels/frame-tensor/frame-tensor.ref.ts';
import {
  prepareTemporalFeatures,
  TEMPORAL_FEATURE_CHANNELS,
} from '../kernels/temporal-features/temporal-features.ts';
import { temporalFeaturesRef } from '../kernels/temporal-features/temporal-features.ref.ts';
import { prepareWarp } from '../kernels/warp/warp.ts';
import { warpRef } from '../kernels/warp/warp.ref.ts';

export interface TemporalCfrSettings {
  /** Squared RGB distance (values in [0, 1], summed over 3 channels) up to which frames blend. */
  readonly margin: number;
  /** How much local luma variance shrinks the margin (strict on detail). */
  readonly slope: number;
  /** The largest weight of the previous frame (at zero distance on a flat area). */
  readonly strength: number;
  /** Added to the distance where the warped previous frame is invalid. */
  readonly penalty: number;
}

/**
 * margin 0.004: a per-channel RMS difference of about 9/255, above the flicker of 8-bit
 * compression (1-3 levels) and moderate sensor noise, below real changes. slope 1: a local luma
 * standard deviation of 0.063 (16/255, texture) closes the gate. strength 0.5: in steady state
 * about three frames contribute.
 */
export const TEMPORAL_CFR: TemporalCfrSettings = {
  margin: 0.004,
  slope: 1,
  strength: 0.5,
  penalty: 4,
};

/** Flow on the input frames (RGB in [0, 1]); the same settings as Upframe-lite's. */
export const TEMPORAL_FLOW = { channels: 3, radius: 4, lambda: 3e-4 } as const satisfies Omit<
  FlowOptions,
  'width' | 'height'
>;

const HEAD_DIM = TEMPORAL_FEATURE_CHANNELS;

/** The hand-set CFR weights of the header (inChannels 8, one head of 8). */
export function temporalCfrWeights(settings: TemporalCfrSettings = TEMPORAL_CFR): CfrWeights {
  const n = TEMPORAL_FEATURE_CHANNELS;
  const root = Math.sqrt(HEAD_DIM);
  const square = (): Float32Array<ArrayBuffer> => new Float32Array(n * n);
  const q = square();
  for (let i = 0; i < n; i++) q[i * n + i] = 1;
  const k = square();
  for (let i = 0; i < 3; i++) k[i * n + i] = 2;
  k[3 * n + 3] = -1;
  const v = square();
  for (let i = 0; i < 3; i++) v[i * n + 4 + i] = 1;
  const out = square();
  for (let i = 0; i < 3; i++) out[i * n + i] = 1;
  const tau = new Float32Array(n);
  tau[3] = -settings.margin / root;
  tau[4] = 1 / root;
  tau[5] = settings.slope / root;
  return {
    config: {
      inChannels: n,
      heads: 1,
      headDim: HEAD_DIM,
      temperature: settings.margin / (root * settings.strength),
    },
    tensors: {
      'q.weight': q,
      'q.bias': new Float32Array(n),
      'k.weight': k,
      'k.bias': new Float32Array(n),
      'v.weight': v,
      'v.bias': new Float32Array(n),
      'tau.weight': tau,
      'tau.bias': new Float32Array(1),
      'out.weight': out,
      'out.bias': new Float32Array(n),
    },
  };
}

interface Encodable {
  encode(encoder: GPUCommandEncoder): void;
  destroy(): void;
}

/**
 * The GPU stage: reads the input texture, writes the fused frame into `texture` (rgba8unorm, the
 * size of the input), which the `sr` tiles then read instead of the input. Everything is made in
 * the constructor; `encode` allocates nothing.
 */
export class TemporalFusionGpu {
  readonly texture: GPUTexture;
  private readonly owned: Encodable[] = [];
  private readonly toTensor: PreparedDispatch;
  private readonly flow: FlowProvider;
  private readonly weights: GPUBuffer;
  private readonly b: Record<
    | 'lq'
    | 'previousLq'
    | 'previousFused'
    | 'flow'
    | 'warped'
    | 'features'
    | 'refFeatures'
    | 'fused',
    GPUBuffer
  >;
  private readonly warp: Encodable;
  private readonly features: Encodable;
  private readonly cfr: Encodable;
  private readonly toTexture: PreparedDispatch;
  private hasPrevious = false;

  constructor(
    device: GPUDevice,
    pool: BufferPool,
    input: GPUTexture,
    readonly width: number,
    readonly height: number,
    settings: TemporalCfrSettings = TEMPORAL_CFR,
  ) {
    const plane = width * height;
    const n = TEMPORAL_FEATURE_CHANNELS;
    const usage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;
    const buf = (floats: number, label: string): GPUBuffer =>
      pool.acquire(floats * 4, usage, `temporal.${label}`);
    const own = <T extends Encodable>(k: T): T => {
      this.owned.push(k);
      return k;
    };
    const b = {
      lq: buf(3 * plane, 'lq'),
      previousLq: buf(3 * plane, 'previous-lq'),
      previousFused: buf(4 * plane, 'previous-fused'),
      flow: buf(2 * plane, 'flow'),
      warped: buf(4 * plane, 'warped'),
      features: buf(n * plane, 'features'),
      refFeatures: buf(n * plane, 'reference-features'),
      fused: buf(n * plane, 'fused'),
    };
    this.b = b;
    // plane 3 of the previous fused frame is its validity: 1 everywhere, warped with the colours
    device.queue.writeBuffer(b.previousFused, 3 * plane * 4, new Float32Array(plane).fill(1));
    this.texture = device.createTexture({
      label: 'temporal.fused',
      size: { width, height },
      format: 'rgba8unorm',
      usage: GPUTextureUsage.STORAGE_BINDING | GPUTextureUsage.TEXTURE_BINDING,
    });
    const region = { x: 0, y: 0, width, height };
    this.toTensor = own(prepareToTensor(device, input, b.lq, { region, range: '0,1' }));
    this.flow = prepareFlow(device, { width, height, ...TEMPORAL_FLOW });
    this.warp = own(
      prepareWarp(
        device,
        { input: b.previousFused, flow: b.flow, output: b.warped },
        { width, height, channels: 4 },
      ),
    );
    this.features = own(
      prepareTemporalFeatures(
        device,
        {
          current: b.lq,
          reference: b.warped,
          currentFeatures: b.features,
          referenceFeatures: b.refFeatures,
        },
        { width, height, penalty: settings.penalty },
      ),
    );
    const weights = temporalCfrWeights(settings);
    this.weights = uploadCfrWeights(device, weights);
    this.cfr = own(
      prepareCfr(
        device,
        { current: b.features, reference: b.refFeatures, weights: this.weights, output: b.fused },
        { inChannels: n, heads: 1, headDim: HEAD_DIM, topK: 1 },
        { width, height, temperature: weights.config.temperature, radius: 0 },
      ),
    );
    this.toTexture = own(
      prepareFromTensor(device, b.fused, this.texture, { region, range: '0,1' }),
    );
  }

  /** Forget the previous frame (a cut, or a seek): the next frame is its own reference. */
  reset(): void {
    this.hasPrevious = false;
  }

  /** Records this frame's fusion into `encoder`; the input texture must hold the frame. */
  async encode(encoder: GPUCommandEncoder): Promise<void> {
    const { b } = this;
    const plane = this.width * this.height;
    this.toTensor.encode(encoder);
    if (this.hasPrevious) {
      await this.flow.encode(encoder, b.lq, b.previousLq, b.flow);
    } else {
      // frame 0 is its own reference: a zero flow warps an exact copy
      encoder.clearBuffer(b.flow);
      encoder.copyBufferToBuffer(b.lq, 0, b.previousFused, 0, 3 * plane * 4);
    }
    this.warp.encode(encoder);
    this.features.encode(encoder);
    this.cfr.encode(encoder);
    this.toTexture.encode(encoder);
    encoder.copyBufferToBuffer(b.fused, 0, b.previousFused, 0, 3 * plane * 4);
    encoder.copyBufferToBuffer(b.lq, 0, b.previousLq, 0, 3 * plane * 4);
    this.hasPrevious = true;
  }

  /** GPU bytes this stage holds beyond its pool buffers. */
  get extraBytes(): number {
    return this.weights.size + 4 * this.width * this.height;
  }

  destroy(): void {
    for (const k of this.owned) k.destroy();
    this.flow.destroy();
    this.weights.destroy();
    this.texture.destroy();
  }
}

const f = Math.fround;

/**
 * cfrRef with top-1 and search radius 0 (the only key is the query's own position), computed per
 * pixel in O(HW * C^2) instead of scanning every key: the reference's key loop is O(HW^2), too slow
 * for whole frames. Same f32 rounding order as cfr-attention.ref.ts; the tests check the two agree.
 */
export function alignedCfr(
  current: Float32Array,
  reference: Float32Array,
  weights: CfrWeights,
  hw: number,
): Float32Array<ArrayBuffer> {
  const { inChannels: cin, heads, headDim: d, temperature } = weights.config;
  const c = heads * d;
  const t = weights.tensors;
  const root = f(Math.sqrt(d));
  const temp = f(temperature);
  const q = new Float32Array(c);
  const k = new Float32Array(c);
  const v = new Float32Array(c);
  const attention = new Float32Array(c);
  const out = new Float32Array(cin * hw);
  const project = (
    dst: Float32Array,
    src: Float32Array,
    w: Float32Array,
    b: Float32Array,
    p: number,
  ): void => {
    for (let o = 0; o < c; o++) {
      let acc = 0;
      for (let i = 0; i < cin; i++) acc = f(acc + f(w[o * cin + i]! * src[i * hw + p]!));
      dst[o] = f(acc + b[o]!);
    }
  };
  for (let p = 0; p < hw; p++) {
    project(q, current, t['q.weight'], t['q.bias'], p);
    project(k, reference, t['k.weight'], t['k.bias'], p);
    project(v, reference, t['v.weight'], t['v.bias'], p);
    for (let h = 0; h < heads; h++) {
      let dot = 0;
      let tau = 0;
      for (let j = 0; j < d; j++) {
        dot = f(dot + f(q[h * d + j]! * k[h * d + j]!));
        tau = f(tau + f(t['tau.weight'][j]! * q[h * d + j]!));
      }
      const sim = f(dot / root);
      tau = f(tau + t['tau.bias'][0]!);
      const weight = Math.max(f(f(sim - tau) / temp), 0);
      for (let j = 0; j < d; j++) attention[h * d + j] = weight > 0 ? f(weight * v[h * d + j]!) : 0;
    }
    for (let o = 0; o < cin; o++) {
      let acc = 0;
      for (let i = 0; i < c; i++) acc = f(acc + f(t['out.weight'][o * c + i]! * attention[i]!));
      out[o * hw + p] = f(current[o * hw + p]! + f(acc + t['out.bias'][o]!));
    }
  }
  return out;
}

/** The same fusion on the CPU (the kernels' references); the reference TemporalFusionGpu matches. */
export class TemporalFusionCpu {
  private previousFused: Float32Array | null = null;
  private readonly weights: CfrWeights;
  /** Flow with frame n - 1's pyramid kept; the warp's input and output, allocated once. */
  private readonly flow: FlowCpu;
  private readonly withValidity: Float32Array<ArrayBuffer>;
  private readonly warped: Float32Array<ArrayBuffer>;
  private readonly zeroFlow: Float32Array;

  constructor(
    readonly width: number,
    readonly height: number,
    private readonly settings: TemporalCfrSettings = TEMPORAL_CFR,
  ) {
    this.weights = temporalCfrWeights(settings);
    const plane = width * height;
    this.flow = new FlowCpu({ width, height, ...TEMPORAL_FLOW });
    this.withValidity = new Float32Array(4 * plane);
    this.warped = new Float32Array(4 * plane);
    this.zeroFlow = new Float32Array(2 * plane);
  }

  reset(): void {
    this.previousFused = null;
    this.flow.reset();
  }

  /** RGBA bytes of the frame -> RGBA bytes of the fused frame (8-bit, as the GPU texture). */
  process(rgba: Uint8Array): Uint8Array {
    const { width, height } = this;
    const plane = width * height;
    const region = { x: 0, y: 0, width, height };
    const lq = rgbaToTensorRef(rgba, width, height, region, '0,1');
    const computed = this.flow.next(lq);
    // frame 0 (and the first after a reset) is its own reference, with a zero flow
    const flow = (this.previousFused ? computed : null) ?? this.zeroFlow;
    const previous = this.previousFused ?? lq;
    const withValidity = this.withValidity;
    withValidity.set(previous.subarray(0, 3 * plane));
    withValidity.fill(1, 3 * plane);
    const warped = warpRef(withValidity, flow, { width, height, channels: 4 }, this.warped);
    const features = temporalFeaturesRef(lq, warped, {
      width,
      height,
      penalty: this.settings.penalty,
    });
    const fused = alignedCfr(features.current, features.reference, this.weights, plane);
    this.previousFused = fused.slice(0, 3 * plane);
    return tensorToRgbaRef(fused, region, width, height, '0,1');
  }
}
