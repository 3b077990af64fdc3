/**
 * The 8x8 inverse DCT of MPEG video (ISO/IEC 13818-2 annex A): separable, in double precision,
 * rounded once at the end and saturated to [-256, 255]. That is the standard's reference
 * definition, which IEEE 1180's accuracy limits are measured against.
 */

/** BASIS[k * 8 + n] = C(k) cos((2n + 1) k pi / 16) with C(0) = 1 / sqrt(8), else 1 / 2. */
const BASIS = new Float64Array(64);
for (let k = 0; k < 8; k++) {
  const c = k === 0 ? Math.SQRT1_2 / 2 : 0.5;
  for (let n = 0; n < 8; n++) BASIS[k * 8 + n] = c * Math.cos(((2 * n + 1) * k * Math.PI) / 16);
}

const across = new Float64Array(64);

/**
 * Transforms `block` (coefficients in row order: vertical frequency * 8 + horizontal frequency)
 * in place into samples. `rows` has bit v set when row v holds a coefficient that is not zero;
 * `dcOnly` says the DC term is the only one.
 */
export function idct(block: Int32Array, rows: number, dcOnly: boolean): void {
  if (dcOnly) {
    const v = Math.round(block[0]! / 8);
    block.fill(v < -256 ? -256 : v > 255 ? 255 : v);
    return;
  }
  // along each row holding coefficients (horizontal frequencies -> x)
  for (let v = 0; v < 8; v++) {
    if (!(rows & (1 << v))) continue;
    for (let x = 0; x < 8; x++) {
      let s = 0;
      for (let u = 0; u < 8; u++) s += BASIS[u * 8 + x]! * block[v * 8 + u]!;
      across[v * 8 + x] = s;
    }
  }
  // down each column (vertical frequencies -> y)
  for (let x = 0; x < 8; x++) {
    for (let y = 0; y < 8; y++) {
      let s = 0;
      for (let v = 0; v < 8; v++) if (rows & (1 << v)) s += BASIS[v * 8 + y]! * across[v * 8 + x]!;
      const r = Math.round(s);
      block[y * 8 + x] = r < -256 ? -256 : r > 255 ? 255 : r;
    }
  }
}
