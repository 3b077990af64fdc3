/**
 * Motion-compensated prediction of MPEG video (ISO/IEC 13818-2 7.6.4): a block of a reference
 * plane (or one field of it) at a half-sample position, averaged with what the destination
 * already holds for the second direction of a bidirectional prediction.
 */

/** A plane or one field of it, as rows of samples in a frame buffer. */
export interface PlaneView {
  /** Offset of the first sample of the first row. */
  base: number;
  /** Distance between rows: the plane's stride, or twice it for a field. */
  step: number;
  width: number;
  height: number;
}

/**
 * Predicts a `w` x `h` block from `src` at half-sample position (`hx`, `hy`) into `dst` at
 * `dstAt` (rows `dstStep` apart). `average` averages with the samples already there (rounding
 * up), as the second prediction of a bidirectional macroblock. Samples outside the reference
 * (which a conforming stream never asks for, but encoders do) repeat its edge, as ffmpeg's
 * decoder has them.
 */
export function predict(
  data: Uint8Array,
  src: PlaneView,
  hx: number,
  hy: number,
  w: number,
  h: number,
  dst: Uint8Array,
  dstAt: number,
  dstStep: number,
  average: boolean,
): void {
  const fx = hx & 1;
  const fy = hy & 1;
  const x = hx >> 1;
  const y = hy >> 1;
  if (x < 0 || y < 0 || x + w + fx > src.width || y + h + fy > src.height) {
    predictAtEdge(data, src, x, y, fx, fy, w, h, dst, dstAt, dstStep, average);
    return;
  }
  const step = src.step;
  let s = src.base + y * step + x;
  let d = dstAt;
  const mode = (fy << 1) | fx;
  for (let row = 0; row < h; row++, s += step, d += dstStep) {
    for (let col = 0; col < w; col++) {
      const a = s + col;
      let v: number;
      if (mode === 0) v = data[a]!;
      else if (mode === 1) v = (data[a]! + data[a + 1]! + 1) >> 1;
      else if (mode === 2) v = (data[a]! + data[a + step]! + 1) >> 1;
      else v = (data[a]! + data[a + 1]! + data[a + step]! + data[a + step + 1]! + 2) >> 2;
      dst[d + col] = average ? (dst[d + col]! + v + 1) >> 1 : v;
    }
  }
}

/** `predict` for a block reaching past the reference's edge: each sample clamped into it. */
function predictAtEdge(
  data: Uint8Array,
  src: PlaneView,
  x: number,
  y: number,
  fx: number,
  fy: number,
  w: number,
  h: number,
  dst: Uint8Array,
  dstAt: number,
  dstStep: number,
  average: boolean,
): void {
  const at = (cx: number, cy: number): number => {
    const px = cx < 0 ? 0 : cx >= src.width ? src.width - 1 : cx;
    const py = cy < 0 ? 0 : cy >= src.height ? src.height - 1 : cy;
    return data[src.base + py * src.step + px]!;
  };
  for (let row = 0, d = dstAt; row < h; row++, d += dstStep) {
    for (let col = 0; col < w; col++) {
      const cx = x + col;
      const cy = y + row;
      let v = at(cx, cy);
      if (fx && fy) v = (v + at(cx + 1, cy) + at(cx, cy + 1) + at(cx + 1, cy + 1) + 2) >> 2;
      else if (fx) v = (v + at(cx + 1, cy) + 1) >> 1;
      else if (fy) v = (v + at(cx, cy + 1) + 1) >> 1;
      dst[d + col] = average ? (dst[d + col]! + v + 1) >> 1 : v;
    }
  }
}
