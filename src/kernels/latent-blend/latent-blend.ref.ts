import type { LatentBlendTile } from './latent-blend.ts';

const f = Math.fround;

/** CPU reference of `accumulate_diff`: acc += w * (a - b), weight += w, in f32 steps. */
export function accumulateDiffRef(
  channels: number,
  a: Float32Array,
  b: Float32Array,
  weights: Float32Array,
  acc: Float32Array,
  weight: Float32Array,
  tile: LatentBlendTile,
  frame: { width: number; height: number },
): void {
  const tilePlane = tile.width * tile.height;
  const framePlane = frame.width * frame.height;
  for (let y = 0; y < tile.height; y++) {
    const fy = tile.y + y;
    if (fy >= frame.height) continue;
    for (let x = 0; x < tile.width; x++) {
      const fx = tile.x + x;
      if (fx >= frame.width) continue;
      const ti = y * tile.width + x;
      const fi = fy * frame.width + fx;
      const w = weights[ti]!;
      for (let c = 0; c < channels; c++) {
        const d = f(a[c * tilePlane + ti]! - b[c * tilePlane + ti]!);
        acc[c * framePlane + fi] = f(acc[c * framePlane + fi]! + f(w * d));
      }
      weight[fi] = f(weight[fi]! + w);
    }
  }
}
