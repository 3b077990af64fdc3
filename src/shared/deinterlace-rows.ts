/**
 * The deinterlacing rule on one colour component of an 8-bit frame buffer, shared by the
 * decoded-frame deinterlacer (media/deinterlace.ts, on YUV planes), the wasm pipelines' input (on
 * RGBA, engine/cpu-frame-io.ts) and, as its CPU reference, the WGSL kernel that does the same on
 * the GPU (kernels/deinterlace). See media/deinterlace.ts for what the rule does and why.
 */

/** Which field of each interlaced frame comes first (is the earlier moment, and is kept). */
export type FieldOrder = 'top-first' | 'bottom-first';

/**
 * How one picture is shown: as two fields in this order, or as a progressive frame (which a
 * deinterlacer passes through unchanged, keeping it as the previous frame of the next one).
 */
export type PictureScan = FieldOrder | 'progressive';

/** One colour component of a frame buffer: where its samples are. */
export interface ComponentLayout {
  readonly offset: number;
  /** Bytes from one row to the next. */
  readonly stride: number;
  /** Bytes from one sample to the next in a row (1 planar, 2 in NV12's UV, 4 in RGBA). */
  readonly step: number;
  /** Samples in a row and rows. */
  readonly width: number;
  readonly height: number;
}

/**
 * Rebuilds the rows of the field that comes second, of one component of `cur`, into `out`, which
 * must already hold `cur` (the kept rows are not written): the odd rows of top-field-first
 * video, the even rows of bottom-field-first video (`bottomFirst`), which keeps its bottom field.
 * `prev` is the previous frame's buffer with the same layout, or null for spatial interpolation
 * only.
 */
export function deinterlaceComponent(
  cur: Uint8Array,
  prev: Uint8Array | null,
  out: Uint8Array,
  c: ComponentLayout,
  bottomFirst = false,
): void {
  const { offset, stride, step, width, height } = c;
  if (height < 2) return;
  const last = width - 1;
  // byte offset of sample k in a row, clamped to the row (the edge pixels repeat)
  const at = (k: number) => (k < 0 ? 0 : k > last ? last : k) * step;
  for (let y = bottomFirst ? 0 : 1; y < height; y += 2) {
    const row = offset + y * stride;
    // a first or last row with no row beyond it mirrors its one neighbour
    const up = y > 0 ? row - stride : row + stride;
    const down = y + 1 < height ? row + stride : up;
    for (let x = 0; x < width; x++) {
      // spatial: along the direction (0 first, then -1, +1) whose neighbourhoods above and
      // below agree best
      let best = Infinity;
      let spatial = 0;
      const interior = x >= 2 && x <= last - 2;
      for (let d = 0; d !== 2; d = d === 0 ? -1 : d === -1 ? 1 : 2) {
        // (inside the row no sample needs clamping: the common case, written out)
        const a = interior ? up + (x + d) * step : 0;
        const b = interior ? down + (x - d) * step : 0;
        const score = interior
          ? Math.abs(cur[a - step]! - cur[b - step]!) +
            Math.abs(cur[a]! - cur[b]!) +
            Math.abs(cur[a + step]! - cur[b + step]!)
          : Math.abs(cur[up + at(x + d - 1)]! - cur[down + at(x - d - 1)]!) +
            Math.abs(cur[up + at(x + d)]! - cur[down + at(x - d)]!) +
            Math.abs(cur[up + at(x + d + 1)]! - cur[down + at(x - d + 1)]!);
        if (score < best) {
          best = score;
          spatial = interior
            ? (cur[a]! + cur[b]! + 1) >> 1
            : (cur[up + at(x + d)]! + cur[down + at(x - d)]! + 1) >> 1;
        }
      }
      const i = row + x * step;
      if (!prev) {
        out[i] = spatial;
        continue;
      }
      const now = cur[i]!;
      const before = prev[i]!;
      const temporal = (now + before + 1) >> 1;
      const ax = up + x * step;
      const bx = down + x * step;
      const moved = Math.max(
        Math.abs(now - before) >> 1,
        (Math.abs(cur[ax]! - prev[ax]!) + Math.abs(cur[bx]! - prev[bx]!)) >> 1,
      );
      out[i] = Math.min(Math.max(spatial, temporal - moved), temporal + moved);
    }
  }
}

/**
 * The rule on the colour components of a tightly packed RGBA frame (alpha is copied): rows of
 * `cur` into `out`, which this fills. `prev` is the previous frame or null (spatial only).
 */
export function deinterlaceRgba(
  cur: Uint8Array,
  prev: Uint8Array | null,
  out: Uint8Array,
  width: number,
  height: number,
  bottomFirst = false,
): void {
  out.set(cur.subarray(0, width * height * 4));
  for (let k = 0; k < 3; k++) {
    const c = { offset: k, stride: width * 4, step: 4, width, height };
    deinterlaceComponent(cur, prev, out, c, bottomFirst);
  }
}
