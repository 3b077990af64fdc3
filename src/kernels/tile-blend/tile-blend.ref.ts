import type { BlendTile, FrameSize } from './tile-blend.ts';

const f = Math.fround;

function ramp(c: number, size: number, a: number, b: number): number {
  let w = 1;
  if (a > 0) w = Math.min(w, f(c / a));
  if (b > 0) w = Math.min(w, f(f(size - c) / b));
  return Math.max(w, f(1e-3));
}

/** CPU reference of `accumulate`, in place on acc and weight. */
export function accumulateRef(
  channels: number,
  tileOutput: Float32Array,
  acc: Float32Array,
  weight: Float32Array,
  tile: BlendTile,
  frame: FrameSize,
): void {
  const tilePlane = tile.width * tile.height;
  const framePlane = frame.width * frame.height;
  for (let y = 0; y < tile.height; y++) {
    const fy = tile.y + y;
    if (fy >= frame.height) continue;
    const wy = ramp(y + 0.5, tile.height, tile.rampTop, tile.rampBottom);
    for (let x = 0; x < tile.width; x++) {
      const fx = tile.x + x;
      if (fx >= frame.width) continue;
      const w = f(ramp(x + 0.5, tile.width, tile.rampLeft, tile.rampRight) * wy);
      const ti = y * tile.width + x;
      const fi = fy * frame.width + fx;
      for (let c = 0; c < channels; c++) {
        acc[c * framePlane + fi] = f(
          acc[c * framePlane + fi]! + f(w * tileOutput[c * tilePlane + ti]!),
        );
      }
      weight[fi] = f(weight[fi]! + w);
    }
  }
}

export function resolveRef(
  channels: number,
  acc: Float32Array,
  weight: Float32Array,
  frame: FrameSize,
  out: Float32Array<ArrayBuffer> = new Float32Array(channels * frame.width * frame.height),
): Float32Array<ArrayBuffer> {
  const plane = frame.width * frame.height;
  for (let i = 0; i < plane; i++) {
    const inv = f(1 / weight[i]!);
    for (let c = 0; c < channels; c++) out[c * plane + i] = f(acc[c * plane + i]! * inv);
  }
  return out;
}
