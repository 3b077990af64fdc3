import { describe, expect, it } from 'vitest';
import { componentsOf, deinterlaceComponent, type ComponentLayout } from './deinterlace.ts';

const W = 64;
const H = 48;

/**
 * A progressive picture at field time `t` (two per frame): a smooth gradient, fine static
 * stripes one row high on the left (what line doubling would wipe out), a diagonal edge, and a
 * bright bar moving right 3 pixels a field (what weaving combs).
 */
function scene(t: number): Uint8Array {
  const img = new Uint8Array(W * H);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      let v = 60 + x + y;
      if (x < 12) v = y % 2 === 0 ? 40 : 200;
      else if (x > 50 && x - 50 > y / 4) v = 180;
      const bar = 16 + 3 * t;
      if (x >= bar && x < bar + 6 && y >= 8 && y < 40) v = 235;
      img[y * W + x] = v;
    }
  }
  return img;
}

/** Frame n of top-field-first video: even rows from field time 2n, odd rows from 2n + 1. */
function interlaced(n: number): Uint8Array {
  const top = scene(2 * n);
  const bottom = scene(2 * n + 1);
  const out = new Uint8Array(W * H);
  for (let y = 0; y < H; y++)
    out.set((y % 2 === 0 ? top : bottom).subarray(y * W, (y + 1) * W), y * W);
  return out;
}

function psnr(a: Uint8Array, b: Uint8Array, x0 = 0, x1 = W): number {
  let sum = 0;
  let n = 0;
  for (let y = 0; y < H; y++)
    for (let x = x0; x < x1; x++) {
      sum += (a[y * W + x]! - b[y * W + x]!) ** 2;
      n++;
    }
  return sum === 0 ? Infinity : 10 * Math.log10((255 * 255 * n) / sum);
}

const plane: ComponentLayout = { offset: 0, stride: W, step: 1, width: W, height: H };

function run(cur: Uint8Array, prev: Uint8Array | null): Uint8Array {
  const out = cur.slice();
  deinterlaceComponent(cur, prev, out, plane);
  return out;
}

describe('deinterlacing', () => {
  it('rebuilds moving edges at the top field moment and keeps still detail whole', () => {
    const prev = interlaced(2);
    const cur = interlaced(3);
    const truth = scene(6); // the top field's moment
    const out = run(cur, prev);
    // the top field's rows are untouched
    for (let y = 0; y < H; y += 2)
      expect(out.subarray(y * W, (y + 1) * W)).toEqual(cur.subarray(y * W, (y + 1) * W));
    // the woven frame combs the moving bar; the deinterlaced one is close to the truth
    const woven = psnr(cur, truth);
    const deinterlaced = psnr(out, truth);
    const spatialOnly = psnr(run(cur, null), truth);
    console.log(
      `PSNR against the progressive picture: woven ${woven.toFixed(1)} dB, spatial only ` +
        `${spatialOnly.toFixed(1)} dB, motion-adaptive ${deinterlaced.toFixed(1)} dB`,
    );
    expect(deinterlaced).toBeGreaterThan(woven + 6);
    expect(deinterlaced).toBeGreaterThan(spatialOnly + 3);
    // the still one-row stripes survive exactly (interpolation would grey them out)
    expect(psnr(out, truth, 0, 12)).toBe(Infinity);
    expect(psnr(run(cur, null), truth, 0, 12)).toBeLessThan(10);
  });

  it('bottom field first: keeps the bottom field and rebuilds the top one at its moment', () => {
    // frame n of bottom-field-first video: odd rows from field time 2n, even rows from 2n + 1
    const bff = (n: number) => {
      const [first, second] = [scene(2 * n), scene(2 * n + 1)];
      const out = new Uint8Array(W * H);
      for (let y = 0; y < H; y++)
        out.set((y % 2 === 1 ? first : second).subarray(y * W, (y + 1) * W), y * W);
      return out;
    };
    const [prev, cur, truth] = [bff(2), bff(3), scene(6)];
    const out = cur.slice();
    deinterlaceComponent(cur, prev, out, plane, true);
    for (let y = 1; y < H; y += 2)
      expect(out.subarray(y * W, (y + 1) * W)).toEqual(cur.subarray(y * W, (y + 1) * W));
    const right = psnr(out, truth);
    // taken as top field first, the same frames come out further from the truth
    const wrong = psnr(run(cur, prev), truth);
    expect(right).toBeGreaterThan(psnr(cur, truth) + 6);
    expect(right).toBeGreaterThan(wrong + 3);
    // the first row has no row above: it is rebuilt from the row below alone
    const first = cur.slice();
    deinterlaceComponent(cur, null, first, plane, true);
    expect(first.subarray(0, W)).toEqual(cur.subarray(W, 2 * W));
  });

  it('a still picture comes out exactly as it went in', () => {
    const still = interlaced(0).map((v, i) => (i % W < 12 ? v : 100 + (i % 7)));
    expect(run(still, still)).toEqual(still);
  });

  it('follows an edge along its direction where there is no previous frame', () => {
    // a diagonal edge one pixel a row: the missing row continues it
    const img = new Uint8Array(W * H);
    for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) img[y * W + x] = x > y + 10 ? 200 : 30;
    const woven = img.slice();
    for (let y = 1; y < H; y += 2) woven.fill(0, y * W, (y + 1) * W); // the bottom field lost
    expect(psnr(run(woven, null), img)).toBeGreaterThan(30);
  });

  it('lays out the components of every 8-bit format copyTo gives', () => {
    const layout = [
      { offset: 0, stride: 66 },
      { offset: 4000, stride: 34 },
      { offset: 5000, stride: 34 },
    ];
    expect(componentsOf('I420', layout, 65, 31)).toEqual([
      { offset: 0, stride: 66, step: 1, width: 65, height: 31 },
      { offset: 4000, stride: 34, step: 1, width: 33, height: 16 },
      { offset: 5000, stride: 34, step: 1, width: 33, height: 16 },
    ]);
    expect(componentsOf('NV12', layout, 64, 32)!.slice(1)).toEqual([
      { offset: 4000, stride: 34, step: 2, width: 32, height: 16 },
      { offset: 4001, stride: 34, step: 2, width: 32, height: 16 },
    ]);
    expect(
      componentsOf('BGRA', [{ offset: 8, stride: 256 }], 64, 32)!.map((c) => c.offset),
    ).toEqual([8, 9, 10]);
    expect(componentsOf('I420P10' as VideoPixelFormat, layout, 64, 32)).toBeNull();
  });

  it('works on interleaved samples without mixing their components', () => {
    // NV12's UV plane: U constant 90, V a moving edge; U must stay 90 everywhere
    const cur = new Uint8Array(2 * W * H);
    const prev = new Uint8Array(2 * W * H);
    for (let y = 0; y < H; y++)
      for (let x = 0; x < W; x++) {
        const i = y * 2 * W + 2 * x;
        cur[i] = prev[i] = 90;
        cur[i + 1] = x > 30 + (y % 2) * 4 ? 220 : 20;
        prev[i + 1] = x > 20 ? 220 : 20;
      }
    const out = cur.slice();
    const u = { offset: 0, stride: 2 * W, step: 2, width: W, height: H };
    deinterlaceComponent(cur, prev, out, u);
    deinterlaceComponent(cur, prev, out, { ...u, offset: 1 });
    for (let i = 0; i < out.length; i += 2) expect(out[i]).toBe(90);
    // the combed V edge (even rows from x = 31, odd rows from 35) is straightened: the odd rows
    // take the even rows' edge, which is where it is at the top field's moment
    for (let y = 1; y < H - 1; y += 2) {
      for (const x of [31, 32, 33, 34]) expect(out[y * 2 * W + 2 * x + 1]).toBe(220);
      expect(out[y * 2 * W + 2 * 29 + 1]).toBe(20);
    }
  });
});
