/**
 * Quality metrics for `npm run eval`, on interleaved RGB 8-bit frames (width x height x 3).
 *
 * - PSNR over all three channels: 10 log10(255^2 / MSE), MSE averaged over every sample (what
 *   ffmpeg's psnr filter reports as "average" for rgb24 input).
 * - SSIM (Wang et al. 2004) on luma Y = 0.299 R + 0.587 G + 0.114 B: 11 x 11 Gaussian window,
 *   sigma 1.5, K1 = 0.01, K2 = 0.03, L = 255, population (co)variances, mean over the positions
 *   where the whole window fits (skimage's structural_similarity with gaussian_weights=True,
 *   use_sample_covariance=False, data_range=255 crops the same border).
 * - E*warp (Lai et al. 2018, "Learning Blind Video Temporal Consistency"): for consecutive output
 *   frames, the previous frame is warped to the current one with the ground-truth flow (bilinear)
 *   and the squared difference is averaged over the pixels whose match is valid (visible in both
 *   frames), on values in [0, 1]; then averaged over frame pairs. Reported x 1e3 as in the papers.
 */

export interface RgbFrame {
  readonly width: number;
  readonly height: number;
  /** Interleaved RGB, 8 bits per sample. */
  readonly data: Uint8Array;
}

export function psnr(a: RgbFrame, b: RgbFrame): number {
  checkSame(a, b);
  let sum = 0;
  for (let i = 0; i < a.data.length; i++) {
    const d = a.data[i]! - b.data[i]!;
    sum += d * d;
  }
  const mse = sum / a.data.length;
  return mse === 0 ? Infinity : 10 * Math.log10((255 * 255) / mse);
}

function checkSame(a: RgbFrame, b: RgbFrame): void {
  if (a.width !== b.width || a.height !== b.height || a.data.length !== b.data.length)
    throw new Error(`Frames differ in size: ${a.width}x${a.height} vs ${b.width}x${b.height}.`);
}

export function luma(frame: RgbFrame): Float64Array {
  const out = new Float64Array(frame.width * frame.height);
  for (let i = 0, j = 0; i < out.length; i++, j += 3) {
    out[i] = 0.299 * frame.data[j]! + 0.587 * frame.data[j + 1]! + 0.114 * frame.data[j + 2]!;
  }
  return out;
}

const WINDOW = 11;
const SIGMA = 1.5;

function gaussian(): Float64Array {
  const w = new Float64Array(WINDOW);
  const r = (WINDOW - 1) / 2;
  let sum = 0;
  for (let i = 0; i < WINDOW; i++) {
    w[i] = Math.exp(-((i - r) ** 2) / (2 * SIGMA * SIGMA));
    sum += w[i]!;
  }
  for (let i = 0; i < WINDOW; i++) w[i]! /= sum;
  return w;
}

/** Separable Gaussian filter, 'valid' positions only: (w - 10) x (h - 10). */
function blurValid(plane: Float64Array, w: number, h: number, g: Float64Array): Float64Array {
  const ow = w - WINDOW + 1;
  const oh = h - WINDOW + 1;
  const rows = new Float64Array(ow * h);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < ow; x++) {
      let s = 0;
      for (let k = 0; k < WINDOW; k++) s += g[k]! * plane[y * w + x + k]!;
      rows[y * ow + x] = s;
    }
  }
  const out = new Float64Array(ow * oh);
  for (let y = 0; y < oh; y++) {
    for (let x = 0; x < ow; x++) {
      let s = 0;
      for (let k = 0; k < WINDOW; k++) s += g[k]! * rows[(y + k) * ow + x]!;
      out[y * ow + x] = s;
    }
  }
  return out;
}

/** SSIM of two grey planes of w x h (values 0..255). */
export function ssimPlane(x: Float64Array, y: Float64Array, w: number, h: number): number {
  if (w < WINDOW || h < WINDOW) throw new Error(`SSIM needs at least ${WINDOW}x${WINDOW} pixels.`);
  const g = gaussian();
  const n = w * h;
  const xx = new Float64Array(n);
  const yy = new Float64Array(n);
  const xy = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    xx[i] = x[i]! * x[i]!;
    yy[i] = y[i]! * y[i]!;
    xy[i] = x[i]! * y[i]!;
  }
  const [mx, my, mxx, myy, mxy] = [x, y, xx, yy, xy].map((p) => blurValid(p, w, h, g)) as [
    Float64Array,
    Float64Array,
    Float64Array,
    Float64Array,
    Float64Array,
  ];
  const c1 = (0.01 * 255) ** 2;
  const c2 = (0.03 * 255) ** 2;
  let sum = 0;
  for (let i = 0; i < mx.length; i++) {
    const ux = mx[i]!;
    const uy = my[i]!;
    const vx = mxx[i]! - ux * ux;
    const vy = myy[i]! - uy * uy;
    const cxy = mxy[i]! - ux * uy;
    sum += ((2 * ux * uy + c1) * (2 * cxy + c2)) / ((ux * ux + uy * uy + c1) * (vx + vy + c2));
  }
  return sum / mx.length;
}

export function ssim(a: RgbFrame, b: RgbFrame): number {
  checkSame(a, b);
  return ssimPlane(luma(a), luma(b), a.width, a.height);
}

/**
 * Ground-truth backward flow of frame t: for each pixel, where it sits in frame t - 1 (absolute
 * coordinates, planar [x..., y...]) and whether that match is valid.
 */
export interface BackwardFlow {
  readonly width: number;
  readonly height: number;
  /** [2, H, W]: previous-frame x then y of each current pixel. */
  readonly match: Float32Array;
  readonly valid: Uint8Array;
}

function bilinear(frame: RgbFrame, x: number, y: number, c: number): number {
  const { width: w, height: h, data } = frame;
  const x0 = Math.min(Math.max(Math.floor(x), 0), w - 1);
  const y0 = Math.min(Math.max(Math.floor(y), 0), h - 1);
  const x1 = Math.min(x0 + 1, w - 1);
  const y1 = Math.min(y0 + 1, h - 1);
  const tx = x - x0;
  const ty = y - y0;
  const at = (px: number, py: number) => data[(py * w + px) * 3 + c]!;
  const top = at(x0, y0) * (1 - tx) + at(x1, y0) * tx;
  const bottom = at(x0, y1) * (1 - tx) + at(x1, y1) * tx;
  return top * (1 - ty) + bottom * ty;
}

/** Mean squared warping error of `current` against `previous` warped by `flow` ([0, 1] values). */
export function warpError(previous: RgbFrame, current: RgbFrame, flow: BackwardFlow): number {
  checkSame(previous, current);
  const { width: w, height: h } = current;
  if (flow.width !== w || flow.height !== h) throw new Error('Flow and frames differ in size.');
  const plane = w * h;
  let sum = 0;
  let count = 0;
  for (let i = 0; i < plane; i++) {
    if (!flow.valid[i]) continue;
    const px = flow.match[i]!;
    const py = flow.match[plane + i]!;
    for (let c = 0; c < 3; c++) {
      const d = (current.data[i * 3 + c]! - bilinear(previous, px, py, c)) / 255;
      sum += d * d;
    }
    count += 3;
  }
  return count ? sum / count : 0;
}

/** E*warp over a clip: mean over consecutive pairs; flows[t] maps frame t to t - 1 (t >= 1). */
export function eWarp(frames: readonly RgbFrame[], flows: readonly BackwardFlow[]): number {
  let sum = 0;
  for (let t = 1; t < frames.length; t++) sum += warpError(frames[t - 1]!, frames[t]!, flows[t]!);
  return frames.length > 1 ? sum / (frames.length - 1) : 0;
}
