import { flowResizeFactors, type FlowResizeParams, type WarpParams } from './warp.ts';

const f = Math.fround;

/** Sample position on one axis: flow_warp's normalisation, then grid_sample's (align_corners). */
function unnormalise(g: number, size: number): number {
  const n = f(f(f(2 * g) / Math.max(size - 1, 1)) - 1);
  return f(f(f(n + 1) / 2) * (size - 1));
}

/**
 * CPU reference of `warp`: grid_sample(bilinear, zeros, align_corners=True) at grid = base + flow,
 * in f32 as PyTorch's generic kernel computes it (weights from the four corner distances, taps
 * outside the input contribute zero).
 */
export function warpRef(
  input: Float32Array,
  flow: Float32Array,
  params: WarpParams,
  /** Written and returned when given (the wasm pipelines reuse one buffer), else allocated. */
  out: Float32Array<ArrayBuffer> = new Float32Array(params.channels * params.width * params.height),
): Float32Array<ArrayBuffer> {
  const { width: w, height: h, channels } = params;
  const plane = w * h;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const i = y * w + x;
      const ix = unnormalise(f(x + (flow[i] ?? 0)), w);
      const iy = unnormalise(f(y + (flow[plane + i] ?? 0)), h);
      const x0 = Math.floor(ix);
      const y0 = Math.floor(iy);
      const x1 = x0 + 1;
      const y1 = y0 + 1;
      // the four taps in PyTorch's order (nw, ne, sw, se); taps outside contribute zero
      const in0 = x0 >= 0 && x0 < w;
      const in1 = x1 >= 0 && x1 < w;
      const row0 = y0 >= 0 && y0 < h ? y0 * w : -1;
      const row1 = y1 >= 0 && y1 < h ? y1 * w : -1;
      const wnw = f(f(x1 - ix) * f(y1 - iy));
      const wne = f(f(ix - x0) * f(y1 - iy));
      const wsw = f(f(x1 - ix) * f(iy - y0));
      const wse = f(f(ix - x0) * f(iy - y0));
      for (let c = 0; c < channels; c++) {
        const base = c * plane;
        let v = 0;
        if (row0 >= 0 && in0) v = f(v + f((input[base + row0 + x0] ?? 0) * wnw));
        if (row0 >= 0 && in1) v = f(v + f((input[base + row0 + x1] ?? 0) * wne));
        if (row1 >= 0 && in0) v = f(v + f((input[base + row1 + x0] ?? 0) * wsw));
        if (row1 >= 0 && in1) v = f(v + f((input[base + row1 + x1] ?? 0) * wse));
        out[base + i] = v;
      }
    }
  }
  return out;
}

function taps(dst: number, inSize: number, ratio: number): [number, number, number, number] {
  const s = Math.max(f(f(ratio * f(dst + 0.5)) - 0.5), 0);
  const i0 = Math.min(Math.floor(s), inSize - 1);
  const i1 = i0 < inSize - 1 ? i0 + 1 : i0;
  const l1 = f(s - i0);
  return [i0, i1, f(1 - l1), l1];
}

/**
 * CPU reference of `resize_flow`: F.interpolate(bilinear, align_corners=False) of a [2, h1, w1]
 * flow to [2, h2, w2], then dx *= w2 / w1 and dy *= h2 / h1.
 */
export function resizeFlowRef(
  flow: Float32Array,
  params: FlowResizeParams,
): Float32Array<ArrayBuffer> {
  const { inWidth: iw, inHeight: ih, outWidth: ow, outHeight: oh } = params;
  const k = flowResizeFactors(params);
  const out = new Float32Array(2 * ow * oh);
  for (let y = 0; y < oh; y++) {
    const [y0, y1, ly0, ly1] = taps(y, ih, k.ratioY);
    for (let x = 0; x < ow; x++) {
      const [x0, x1, lx0, lx1] = taps(x, iw, k.ratioX);
      for (let c = 0; c < 2; c++) {
        const b = c * iw * ih;
        const at = (yy: number, xx: number): number => flow[b + yy * iw + xx] ?? 0;
        const top = f(f(lx0 * at(y0, x0)) + f(lx1 * at(y0, x1)));
        const bottom = f(f(lx0 * at(y1, x0)) + f(lx1 * at(y1, x1)));
        const v = f(f(ly0 * top) + f(ly1 * bottom));
        out[c * ow * oh + y * ow + x] = f(v * (c === 0 ? k.scaleX : k.scaleY));
      }
    }
  }
  return out;
}
