import { describe, expect, it } from 'vitest';
import {
  eWarp,
  psnr,
  ssim,
  ssimPlane,
  warpError,
  type BackwardFlow,
  type RgbFrame,
} from './metrics.ts';

const W = 40;
const H = 32;

/** The pair the reference values below were computed on (formulas, so Python rebuilds them). */
function pair(): [RgbFrame, RgbFrame] {
  const a = new Uint8Array(W * H * 3);
  const b = new Uint8Array(W * H * 3);
  for (let y = 0; y < H; y++)
    for (let x = 0; x < W; x++)
      for (let c = 0; c < 3; c++) {
        const v = (x * 7 + y * 13 + c * 50) % 256;
        a[(y * W + x) * 3 + c] = v;
        b[(y * W + x) * 3 + c] = Math.min(
          255,
          Math.max(0, v + ((x * 31 + y * 17 + c * 5) % 21) - 10),
        );
      }
  return [
    { width: W, height: H, data: a },
    { width: W, height: H, data: b },
  ];
}

describe('psnr', () => {
  it('matches ffmpeg -lavfi psnr "average" and skimage on a known pair', () => {
    const [a, b] = pair();
    // ffmpeg 5.1: average:32.582727; skimage peak_signal_noise_ratio: 32.58272688691166
    expect(psnr(a, b)).toBeCloseTo(32.58272688691166, 9);
  });

  it('is 10 log10(255^2 / 25) for a constant error of 5 levels', () => {
    const a = { width: 4, height: 4, data: new Uint8Array(48).fill(100) };
    const b = { width: 4, height: 4, data: new Uint8Array(48).fill(105) };
    expect(psnr(a, b)).toBeCloseTo(10 * Math.log10((255 * 255) / 25), 12);
    expect(psnr(a, a)).toBe(Infinity);
  });
});

describe('ssim', () => {
  it('matches skimage structural_similarity (gaussian, sigma 1.5, population covariance) on luma', () => {
    const [a, b] = pair();
    // skimage 0.19 on Y = 0.299 R + 0.587 G + 0.114 B as float64, data_range=255
    expect(ssim(a, b)).toBeCloseTo(0.988892352611246, 10);
  });

  it('is (2ab + C1) / (a^2 + b^2 + C1) for two flat images and 1 for equal ones', () => {
    const n = 16 * 16;
    const x = new Float64Array(n).fill(80);
    const y = new Float64Array(n).fill(120);
    const c1 = (0.01 * 255) ** 2;
    expect(ssimPlane(x, y, 16, 16)).toBeCloseTo(
      (2 * 80 * 120 + c1) / (80 * 80 + 120 * 120 + c1),
      12,
    );
    const [a] = pair();
    expect(ssim(a, a)).toBeCloseTo(1, 12);
  });
});

describe('warp error', () => {
  function shifted(dx: number, offset: number): RgbFrame {
    const data = new Uint8Array(W * H * 3);
    for (let y = 0; y < H; y++)
      for (let x = 0; x < W; x++)
        for (let c = 0; c < 3; c++)
          data[(y * W + x) * 3 + c] = (((x - dx) * 5 + y * 3 + c * 40) % 200) + offset;
    return { width: W, height: H, data };
  }

  /** Current pixel x came from x - dx in the previous frame. */
  function flow(dx: number): BackwardFlow {
    const match = new Float32Array(2 * W * H);
    const valid = new Uint8Array(W * H);
    for (let y = 0; y < H; y++)
      for (let x = 0; x < W; x++) {
        match[y * W + x] = x - dx;
        match[W * H + y * W + x] = y;
        valid[y * W + x] = x - dx >= 0 ? 1 : 0;
      }
    return { width: W, height: H, match, valid };
  }

  it('is 0 when the flow explains the motion exactly', () => {
    expect(warpError(shifted(0, 0), shifted(3, 0), flow(3))).toBe(0);
  });

  it('is the squared brightness change when the content also brightens', () => {
    // +10 levels everywhere the match is valid: (10 / 255)^2
    expect(warpError(shifted(0, 0), shifted(2, 10), flow(2))).toBeCloseTo((10 / 255) ** 2, 12);
  });

  it('is not 0 when the flow is wrong, and eWarp averages the pairs', () => {
    const frames = [shifted(0, 0), shifted(3, 0), shifted(6, 0)];
    expect(warpError(frames[0]!, frames[1]!, flow(1))).toBeGreaterThan(1e-3);
    const flows = [flow(0), flow(3), flow(3)];
    expect(eWarp(frames, flows)).toBe(0);
    const e1 = warpError(frames[0]!, frames[1]!, flow(2));
    const e2 = warpError(frames[1]!, frames[2]!, flow(3));
    expect(eWarp(frames, [flow(0), flow(2), flow(3)])).toBeCloseTo((e1 + e2) / 2, 15);
  });
});
