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
 * up), as the second prediction of a bidirectional macroblock. A position outside the
 * reference (which a conforming stream never sends) is clamped into it.
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
  let x = hx >> 1;
  let y = hy >> 1;
  const maxX = src.width - w - fx;
  const maxY = src.height - h - fy;
  x = x < 0 ? 0 : x > maxX ? maxX : x;
  y = y < 0 ? 0 : y > maxY ? maxY : y;
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
