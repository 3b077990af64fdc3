import type { CfrWeights } from './cfr-weights.ts';

const f = Math.fround;

export interface CfrRefParams {
  readonly width: number;
  readonly height: number;
  readonly temperature: number;
  /** 'all' (or H * W) sums over every key. */
  readonly topK: number | 'all';
  readonly radius?: number;
}

export interface Projections {
  readonly q: Float32Array<ArrayBuffer>;
  readonly k: Float32Array<ArrayBuffer>;
  readonly v: Float32Array<ArrayBuffer>;
}

/** 1x1 convolution over planar [C, H, W]; writes `out` when given (CfrCpu's pooled buffers). */
export function conv1x1(
  input: Float32Array,
  weight: Float32Array,
  bias: Float32Array,
  inChannels: number,
  outChannels: number,
  hw: number,
  out: Float32Array<ArrayBuffer> = new Float32Array(outChannels * hw),
): Float32Array<ArrayBuffer> {
  for (let c = 0; c < outChannels; c++) {
    for (let p = 0; p < hw; p++) {
      let acc = 0;
      for (let i = 0; i < inChannels; i++) {
        acc = f(acc + f(weight[c * inChannels + i]! * input[i * hw + p]!));
      }
      out[c * hw + p] = f(acc + bias[c]!);
    }
  }
  return out;
}

/** Q from the current latent, K and V from the warped reference (1x1 convs). */
export function cfrProjectRef(
  current: Float32Array,
  reference: Float32Array,
  weights: CfrWeights,
  hw: number,
): Projections {
  const { inChannels, heads, headDim } = weights.config;
  const c = heads * headDim;
  const t = weights.tensors;
  return {
    q: conv1x1(current, t['q.weight'], t['q.bias'], inChannels, c, hw),
    k: conv1x1(reference, t['k.weight'], t['k.bias'], inChannels, c, hw),
    v: conv1x1(reference, t['v.weight'], t['v.bias'], inChannels, c, hw),
  };
}

/** tau[h, p] = Linear(headDim -> 1)(Q[h, :, p]), one Linear shared by all heads. */
export function cfrTauRef(
  q: Float32Array,
  weights: CfrWeights,
  hw: number,
  tau: Float32Array = new Float32Array(weights.config.heads * hw),
): Float32Array {
  const { heads, headDim } = weights.config;
  const w = weights.tensors['tau.weight'];
  const b = weights.tensors['tau.bias'][0]!;
  for (let h = 0; h < heads; h++) {
    for (let p = 0; p < hw; p++) {
      let acc = 0;
      for (let j = 0; j < headDim; j++) acc = f(acc + f(w[j]! * q[(h * headDim + j) * hw + p]!));
      tau[h * hw + p] = f(acc + b);
    }
  }
  return tau;
}

export function similarity(
  q: Float32Array,
  k: Float32Array,
  h: number,
  d: number,
  p: number,
  key: number,
  hw: number,
) {
  let dot = 0;
  for (let j = 0; j < d; j++)
    dot = f(dot + f(q[(h * d + j) * hw + p]! * k[(h * d + j) * hw + key]!));
  return f(dot / f(Math.sqrt(d)));
}

/**
 * Top-k retrieval: for each head and query, the k keys of highest sim (ties: lower key index
 * first) within the search radius, weighted by ReLU((sim - tau) / T), summed in key order.
 * Returns the attention output [heads * headDim, H, W]. Also returns the selected keys per
 * (head, query) so tests can check the selection itself.
 */
export function cfrAttentionRef(
  proj: Projections,
  weights: CfrWeights,
  params: CfrRefParams,
): { out: Float32Array<ArrayBuffer>; selected: number[][] } {
  const { heads, headDim: d } = weights.config;
  const { width, height, radius } = params;
  const hw = width * height;
  const k = params.topK === 'all' ? hw : params.topK;
  const tau = cfrTauRef(proj.q, weights, hw);
  const temperature = f(params.temperature);
  const out = new Float32Array(heads * d * hw);
  const selected: number[][] = [];
  for (let h = 0; h < heads; h++) {
    for (let p = 0; p < hw; p++) {
      const [px, py] = [p % width, Math.floor(p / width)];
      const t = tau[h * hw + p]!;
      const candidates: { key: number; sim: number }[] = [];
      // keys in increasing index order: the whole tile, or only the window within the radius
      // (row by row, so the same order; O(HW * r^2) instead of O(HW^2) for whole frames)
      const r = radius ?? Math.max(width, height);
      for (let ky = Math.max(0, py - r); ky <= Math.min(height - 1, py + r); ky++) {
        for (let kx = Math.max(0, px - r); kx <= Math.min(width - 1, px + r); kx++) {
          const key = ky * width + kx;
          candidates.push({ key, sim: similarity(proj.q, proj.k, h, d, p, key, hw) });
        }
      }
      candidates.sort((a, b) => b.sim - a.sim || a.key - b.key);
      const chosen = candidates.slice(0, k).sort((a, b) => a.key - b.key);
      selected.push(chosen.map((c) => c.key));
      for (let j = 0; j < d; j++) {
        let acc = 0;
        for (const { key, sim } of chosen) {
          const w = Math.max(f(f(sim - t) / temperature), 0);
          if (w > 0) acc = f(acc + f(w * proj.v[(h * d + j) * hw + key]!));
        }
        out[(h * d + j) * hw + p] = acc;
      }
    }
  }
  return { out, selected };
}

/** fused = current + (Conv1x1(heads * headDim -> inChannels)(attention) + bias). */
export function cfrOutputRef(
  current: Float32Array,
  attention: Float32Array,
  weights: CfrWeights,
  hw: number,
): Float32Array<ArrayBuffer> {
  const { inChannels, heads, headDim } = weights.config;
  const t = weights.tensors;
  const proj = conv1x1(attention, t['out.weight'], t['out.bias'], heads * headDim, inChannels, hw);
  return proj.map((v, i) => f(current[i]! + v));
}

/** CPU reference of the whole top-k CFR fusion. */
export function cfrRef(
  current: Float32Array,
  reference: Float32Array,
  weights: CfrWeights,
  params: CfrRefParams,
): Float32Array<ArrayBuffer> {
  const hw = params.width * params.height;
  const proj = cfrProjectRef(current, reference, weights, hw);
  return cfrOutputRef(current, cfrAttentionRef(proj, weights, params).out, weights, hw);
}

/**
 * The released code's formulation, kept independent of the streamed one: the full heads x HW x HW
 * similarity matrix, attn = ReLU((sim - tau) / T) with no selection, out = attn @ V over every
 * key. Memory O(HW^2): small tiles only.
 */
export function cfrDenseRef(
  current: Float32Array,
  reference: Float32Array,
  weights: CfrWeights,
  params: { width: number; height: number; temperature: number },
): Float32Array<ArrayBuffer> {
  const { heads, headDim: d } = weights.config;
  const hw = params.width * params.height;
  const proj = cfrProjectRef(current, reference, weights, hw);
  const tau = cfrTauRef(proj.q, weights, hw);
  const temperature = f(params.temperature);
  const attention = new Float32Array(heads * d * hw);
  const attn = new Float32Array(hw * hw);
  for (let h = 0; h < heads; h++) {
    for (let p = 0; p < hw; p++) {
      for (let key = 0; key < hw; key++) {
        const sim = similarity(proj.q, proj.k, h, d, p, key, hw);
        attn[p * hw + key] = Math.max(f(f(sim - tau[h * hw + p]!) / temperature), 0);
      }
    }
    for (let j = 0; j < d; j++) {
      const row = (h * d + j) * hw;
      for (let p = 0; p < hw; p++) {
        let acc = 0;
        for (let key = 0; key < hw; key++) {
          acc = f(acc + f(attn[p * hw + key]! * proj.v[row + key]!));
        }
        attention[row + p] = acc;
      }
    }
  }
  return cfrOutputRef(current, attention, weights, hw);
}
