import type { TemporalFeatureParams } from './temporal-features.ts';

const f = Math.fround;

function luma(current: Float32Array, i: number, plane: number): number {
  return f(
    f(f(0.299 * current[i]!) + f(0.587 * current[plane + i]!)) + f(0.114 * current[2 * plane + i]!),
  );
}

/** CPU reference of temporal-features.wgsl (same formulas, f32 rounding at each step). */
export function temporalFeaturesRef(
  current: Float32Array,
  reference: Float32Array,
  params: TemporalFeatureParams,
): { current: Float32Array<ArrayBuffer>; reference: Float32Array<ArrayBuffer> } {
  const { width: w, height: h } = params;
  const penalty = f(params.penalty);
  const plane = w * h;
  const cf = new Float32Array(8 * plane);
  const rf = new Float32Array(8 * plane);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const i = y * w + x;
      let sum = 0;
      let sumSq = 0;
      for (let dy = -1; dy <= 1; dy++) {
        const yy = Math.min(Math.max(y + dy, 0), h - 1);
        for (let dx = -1; dx <= 1; dx++) {
          const xx = Math.min(Math.max(x + dx, 0), w - 1);
          const v = luma(current, yy * w + xx, plane);
          sum = f(sum + v);
          sumSq = f(sumSq + f(v * v));
        }
      }
      const mean = f(sum / 9);
      const detail = Math.max(f(f(sumSq / 9) - f(mean * mean)), 0);
      const c = [current[i]!, current[plane + i]!, current[2 * plane + i]!];
      const r = [reference[i]!, reference[plane + i]!, reference[2 * plane + i]!];
      const valid = reference[3 * plane + i]!;
      const dot = (a: number[]): number =>
        f(f(f(a[0]! * a[0]!) + f(a[1]! * a[1]!)) + f(a[2]! * a[2]!));
      for (let k = 0; k < 3; k++) {
        cf[k * plane + i] = c[k]!;
        rf[k * plane + i] = r[k]!;
        rf[(4 + k) * plane + i] = f(r[k]! - c[k]!);
      }
      cf[3 * plane + i] = 1;
      cf[4 * plane + i] = dot(c);
      cf[5 * plane + i] = detail;
      rf[3 * plane + i] = f(dot(r) + f(penalty * f(1 - valid)));
    }
  }
  return { current: cf, reference: rf };
}
