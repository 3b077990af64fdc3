import { UpframeError } from '../../shared/errors.ts';
import { conv1x1, cfrTauRef, type CfrRefParams } from './cfr-attention.ref.ts';
import type { CfrWeights } from './cfr-weights.ts';

const f = Math.fround;

/**
 * cfrRef for the wasm pipelines: the same fusion, bit for bit, for a search window (a `radius`),
 * with every buffer allocated once per frame size. cfrRef builds an object per candidate key and
 * sorts them, which is clear but allocates heads * H * W * (2r + 1)^2 objects a frame; this keeps
 * the k best keys in a small sorted array instead and then sums the chosen ones in key order, as
 * cfrRef does. `run` returns a buffer that is valid until the next call.
 */
export class CfrCpu {
  private readonly hw: number;
  private readonly q: Float32Array<ArrayBuffer>;
  private readonly k: Float32Array<ArrayBuffer>;
  private readonly v: Float32Array<ArrayBuffer>;
  private readonly tau: Float32Array;
  private readonly attention: Float32Array<ArrayBuffer>;
  private readonly out: Float32Array<ArrayBuffer>;
  /** The window's candidates in key order, and the k best as (sim desc, key asc). */
  private readonly candSim: Float32Array;
  private readonly candKey: Int32Array;
  private readonly bestSim: Float32Array;
  private readonly bestKey: Int32Array;
  private readonly topK: number;
  private readonly radius: number;

  constructor(
    private readonly weights: CfrWeights,
    private readonly params: CfrRefParams & { readonly radius: number },
  ) {
    const { width, height, radius } = params;
    if (!Number.isInteger(radius) || radius < 0) {
      throw new UpframeError('INVALID_OPTION', 'CFR: the search radius must be an integer >= 0.');
    }
    const { inChannels, heads, headDim } = weights.config;
    const c = heads * headDim;
    const hw = width * height;
    this.hw = hw;
    this.q = new Float32Array(c * hw);
    this.k = new Float32Array(c * hw);
    this.v = new Float32Array(c * hw);
    this.tau = new Float32Array(heads * hw);
    this.attention = new Float32Array(c * hw);
    this.out = new Float32Array(inChannels * hw);
    const window = (2 * radius + 1) ** 2;
    this.radius = radius;
    this.topK = params.topK === 'all' ? window : Math.min(params.topK, window);
    this.candSim = new Float32Array(window);
    this.candKey = new Int32Array(window);
    this.bestSim = new Float32Array(this.topK);
    this.bestKey = new Int32Array(this.topK);
  }

  /** fused [inChannels, H, W] for `current` and the warped `reference` (both [inChannels, H, W]). */
  run(current: Float32Array, reference: Float32Array): Float32Array<ArrayBuffer> {
    const { weights, hw } = this;
    const { inChannels, heads, headDim } = weights.config;
    const c = heads * headDim;
    const t = weights.tensors;
    conv1x1(current, t['q.weight'], t['q.bias'], inChannels, c, hw, this.q);
    conv1x1(reference, t['k.weight'], t['k.bias'], inChannels, c, hw, this.k);
    conv1x1(reference, t['v.weight'], t['v.bias'], inChannels, c, hw, this.v);
    cfrTauRef(this.q, weights, hw, this.tau);
    this.attend();
    conv1x1(this.attention, t['out.weight'], t['out.bias'], c, inChannels, hw, this.out);
    const out = this.out;
    for (let i = 0; i < out.length; i++) out[i] = f(current[i]! + out[i]!);
    return out;
  }

  private attend(): void {
    const { q, k, v, tau, attention, candSim, candKey, bestSim, bestKey, hw, radius, topK } = this;
    const { heads, headDim: d } = this.weights.config;
    const { width, height } = this.params;
    const temperature = f(this.params.temperature);
    const scale = f(Math.sqrt(d));
    for (let h = 0; h < heads; h++) {
      const qBase = h * d * hw;
      for (let p = 0; p < hw; p++) {
        const px = p % width;
        const py = (p - px) / width;
        // candidates in increasing key order, the k best kept sorted (a later key never beats an
        // equal sim, so ties keep the lower key first, as cfrRef's sort does)
        let n = 0;
        let kept = 0;
        for (let ky = Math.max(0, py - radius); ky <= Math.min(height - 1, py + radius); ky++) {
          for (let kx = Math.max(0, px - radius); kx <= Math.min(width - 1, px + radius); kx++) {
            const key = ky * width + kx;
            let dot = 0;
            for (let j = 0; j < d; j++) {
              dot = f(dot + f(q[qBase + j * hw + p]! * k[qBase + j * hw + key]!));
            }
            const sim = f(dot / scale);
            candSim[n] = sim;
            candKey[n] = key;
            n++;
            if (kept < topK || sim > bestSim[kept - 1]!) {
              let at = kept < topK ? kept++ : kept - 1;
              while (at > 0 && sim > bestSim[at - 1]!) {
                bestSim[at] = bestSim[at - 1]!;
                bestKey[at] = bestKey[at - 1]!;
                at--;
              }
              bestSim[at] = sim;
              bestKey[at] = key;
            }
          }
        }
        const lastSim = bestSim[kept - 1]!;
        const lastKey = bestKey[kept - 1]!;
        const threshold = tau[h * hw + p]!;
        for (let j = 0; j < d; j++) {
          const row = qBase + j * hw;
          let acc = 0;
          for (let i = 0; i < n; i++) {
            const sim = candSim[i]!;
            if (sim < lastSim || (sim === lastSim && candKey[i]! > lastKey)) continue;
            const w = Math.max(f(f(sim - threshold) / temperature), 0);
            if (w > 0) acc = f(acc + f(w * v[row + candKey[i]!]!));
          }
          attention[row + p] = acc;
        }
      }
    }
  }
}
