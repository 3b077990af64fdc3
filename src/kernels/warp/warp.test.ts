import { describe, expect, it } from 'vitest';
import { testDevice, withValidation } from '../../../test/gpu-device.ts';
import { readFloat32 } from '../../gpu/readback.ts';
import { randomFloats } from '../../shared/random.ts';
import { prepareFlowResize, prepareWarp, type FlowResizeParams, type WarpParams } from './warp.ts';
import { resizeFlowRef, warpRef } from './warp.ref.ts';

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i]! - b[i]!));
  return max;
}

function storage(device: GPUDevice, data: Float32Array<ArrayBuffer> | number): GPUBuffer {
  const size = typeof data === 'number' ? data * 4 : data.byteLength;
  const buffer = device.createBuffer({
    size: Math.max(16, size),
    usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC,
  });
  if (typeof data !== 'number') device.queue.writeBuffer(buffer, 0, data);
  return buffer;
}

async function gpuWarp(
  input: Float32Array<ArrayBuffer>,
  flow: Float32Array<ArrayBuffer>,
  params: WarpParams,
): Promise<Float32Array> {
  const device = await testDevice();
  return withValidation(device, async () => {
    const count = params.channels * params.width * params.height;
    const buffers = { input: storage(device, input), flow: storage(device, flow) };
    const output = storage(device, count);
    const dispatch = prepareWarp(device, { ...buffers, output }, params);
    const encoder = device.createCommandEncoder();
    dispatch.encode(encoder);
    device.queue.submit([encoder.finish()]);
    const out = await readFloat32(device, output, count);
    dispatch.destroy();
    for (const b of [buffers.input, buffers.flow, output]) b.destroy();
    return out;
  });
}

async function gpuResize(
  flow: Float32Array<ArrayBuffer>,
  params: FlowResizeParams,
): Promise<Float32Array> {
  const device = await testDevice();
  return withValidation(device, async () => {
    const count = 2 * params.outWidth * params.outHeight;
    const input = storage(device, flow);
    const output = storage(device, count);
    const dispatch = prepareFlowResize(device, { input, output }, params);
    const encoder = device.createCommandEncoder();
    dispatch.encode(encoder);
    device.queue.submit([encoder.finish()]);
    const out = await readFloat32(device, output, count);
    dispatch.destroy();
    input.destroy();
    output.destroy();
    return out;
  });
}

/** The inputs of the PyTorch fixture below (same formulas as the script that made it). */
const FIX = { C: 2, H: 4, W: 5 };
function fixtureInput(): Float32Array<ArrayBuffer> {
  const n = FIX.H * FIX.W;
  return Float32Array.from({ length: FIX.C * n }, (_, k) => {
    const [c, i] = [Math.floor(k / n), k % n];
    return (((c * 31 + i * 7) % 17) - 8) / 8;
  });
}
function fixtureFlow(): Float32Array<ArrayBuffer> {
  const n = FIX.H * FIX.W;
  return Float32Array.from({ length: 2 * n }, (_, k) => {
    const [c, i] = [Math.floor(k / n), k % n];
    return (((c * 13 + i * 5) % 11) - 5) * 0.3;
  });
}

// Made with torch 1.13 (/usr/bin/python3): basicsr-style flow_warp (grid = base + flow,
// 2 * g / max(size - 1, 1) - 1, grid_sample bilinear, zeros, align_corners=True) on the inputs
// above; and F.interpolate(flow, size, bilinear, align_corners=False) with dx *= w2 / w1,
// dy *= h2 / h1.
// prettier-ignore
const TORCH_WARP = [0.0, -0.05000000447034836, 0.0, -0.08750007301568985, 0.0, -0.3500000834465027, 0.018750011920928955, 0.05000002682209015, 0.2999999225139618, -0.19999995827674866, -0.3750000298023224, -0.4312499761581421, -0.19999980926513672, 0.23749999701976776, 0.40000003576278687, 0.23750004172325134, -0.2750000059604645, 0.0, -0.37625011801719666, 0.0, 0.0, -0.42500001192092896, 0.0, -0.46250009536743164, 0.0, 0.3500000834465027, 0.5999999642372131, -0.32499998807907104, -0.07500007748603821, -0.5749999284744263, -0.601250171661377, 0.4437499940395355, 0.699999988079071, 0.04999999701976776, 0.02500002831220627, -0.13749995827674866, -0.6500000357627869, 0.0, 0.5875000953674316, 0.0];
// prettier-ignore
const TORCH_RESIZE_7x3 = [-0.6000000238418579, 0.8999999761581421, 0.4199999272823334, -0.40714284777641296, 0.38571420311927795, 0.14142851531505585, -0.09857143461704254, -0.43714281916618347, -0.3042856752872467, -0.12000001221895218, -0.2699999213218689, -0.08999983966350555, -0.14142848551273346, 0.03857143595814705, 0.17142868041992188, 0.16714298725128174, 0.34714287519454956, 0.10285711288452148, 0.36000001430511475, 0.5399999618530273, 0.05999992415308952, -0.699999988079071, -2.0999999046325684, -1.5749998092651367, -0.13749995827674866, -1.5374996662139893, -1.0124995708465576, 0.762499988079071, -0.6374998092651367, -0.11249962449073792, 0.6999999284744263, 0.26250016689300537, -0.17500001192092896, 0.36249977350234985, 1.162500023841858, -0.2375001162290573, -0.9375003576278687, 2.0625, 0.6625000238418579, -1.75, 2.624999761581421, 1.2249997854232788];
// prettier-ignore
const TORCH_RESIZE_3x9 = [-2.430000066757202, -1.5299997329711914, -0.029999788850545883, 1.03000009059906, 1.9799995422363281, 0.7299996614456177, -0.07999967783689499, 0.8700002431869507, 1.4399999380111694, -0.2699999213218689, -0.36000001430511475, -0.5100002288818359, -0.6600000858306885, -0.8099995255470276, 0.6900004744529724, 1.5299994945526123, -0.2700005769729614, -1.3499999046325684, 1.8900001049041748, 0.8100000023841858, -0.9900001287460327, -0.14999961853027344, 1.3499997854232788, 0.09999950975179672, -0.7099999785423279, 0.24000032246112823, 0.8100001215934753, -0.5624999403953552, -0.18749994039535522, 0.43750011920928955, -0.037500131875276566, -0.7874999046325684, -0.1624998301267624, 0.1874997913837433, -0.5625002384185791, -1.0125000476837158, 0.33750003576278687, 0.2999999523162842, 0.23749995231628418, 0.17499995231628418, 0.11250001192092896, 0.04999995231628418, -0.012500099837779999, -0.07500003278255463, -0.11249996721744537, -0.8250001668930054, -0.5875000953674316, -0.19166657328605652, 0.38750022649765015, 1.0124999284744263, 0.2624998688697815, -0.212499737739563, 0.4125003218650818, 0.7875000238418579];

/** Random flow with about a fifth of the samples landing outside the frame. */
function randomFlow(w: number, h: number, seed: number): Float32Array<ArrayBuffer> {
  const flow = randomFloats(2 * w * h, seed, -6, 6);
  return flow;
}

describe('warp kernel', () => {
  it('matches PyTorch flow_warp (grid_sample zeros, align_corners=True) on a fixture', async () => {
    const params = { width: FIX.W, height: FIX.H, channels: FIX.C };
    const ref = warpRef(fixtureInput(), fixtureFlow(), params);
    expect(maxAbsDiff(ref, TORCH_WARP)).toBeLessThanOrEqual(1e-6);
    const gpu = await gpuWarp(fixtureInput(), fixtureFlow(), params);
    expect(maxAbsDiff(gpu, TORCH_WARP)).toBeLessThanOrEqual(2e-6);
  });

  it('a half-pixel shift of a ramp interpolates, and the last column gets half of itself', async () => {
    const [w, h] = [6, 3];
    const input = Float32Array.from({ length: w * h }, (_, i) => (i % w) + 1);
    const flow = new Float32Array(2 * w * h);
    flow.fill(0.5, 0, w * h);
    const params = { width: w, height: h, channels: 1 };
    // sample at x + 0.5: value x + 1.5; at x = 5 the right tap (x = 6) is outside and counts zero
    const expected = Float32Array.from({ length: w * h }, (_, i) =>
      i % w === w - 1 ? 0.5 * w : (i % w) + 1.5,
    );
    expect(Array.from(warpRef(input, flow, params))).toEqual(Array.from(expected));
    expect(maxAbsDiff(await gpuWarp(input, flow, params), expected)).toBeLessThanOrEqual(1e-6);
  });

  it('an integer shift moves pixels out of frame and fills zeros', async () => {
    const [w, h, channels] = [7, 5, 2];
    const input = randomFloats(channels * w * h, 4, 1, 2);
    const flow = new Float32Array(2 * w * h);
    flow.fill(2, 0, w * h); // dx = +2: output(x) = input(x + 2)
    flow.fill(-1, w * h); // dy = -1: output(y) = input(y - 1)
    const params = { width: w, height: h, channels };
    const expected = new Float32Array(channels * w * h);
    for (let c = 0; c < channels; c++) {
      for (let y = 0; y < h; y++) {
        for (let x = 0; x < w; x++) {
          const [sx, sy] = [x + 2, y - 1];
          const inside = sx < w && sy >= 0;
          expected[c * w * h + y * w + x] = inside ? input[c * w * h + sy * w + sx]! : 0;
        }
      }
    }
    expect(maxAbsDiff(warpRef(input, flow, params), expected)).toBeLessThanOrEqual(1e-6);
    expect(maxAbsDiff(await gpuWarp(input, flow, params), expected)).toBeLessThanOrEqual(1e-6);
  });

  it.each([
    [37, 23, 4, 1],
    [37, 23, 9 * 64, 2],
    [1, 9, 3, 3],
    [64, 1, 2, 5],
  ])('matches the CPU reference on random %ix%i, C=%i (seed %i)', async (w, h, channels, seed) => {
    const params = { width: w, height: h, channels };
    const input = randomFloats(channels * w * h, seed, -1, 1);
    const flow = randomFlow(w, h, seed + 100);
    const ref = warpRef(input, flow, params);
    const gpu = await gpuWarp(input, flow, params);
    expect(maxAbsDiff(gpu, ref)).toBeLessThanOrEqual(1e-5);
    // the flow sends some samples fully outside: those must be exact zeros
    const outside = Array.from(ref.subarray(0, w * h)).filter((v) => v === 0).length;
    if (w > 1 && h > 1) expect(outside).toBeGreaterThan(0);
  });

  it('a flow of NaN or huge values gives zeros, not garbage', async () => {
    const [w, h] = [5, 4];
    const input = randomFloats(w * h, 8, 1, 2);
    const flow = new Float32Array(2 * w * h).fill(1e30);
    flow[0] = NaN;
    flow[w * h + 3] = -1e30;
    const params = { width: w, height: h, channels: 1 };
    expect(Array.from(await gpuWarp(input, flow, params))).toEqual(new Array(w * h).fill(0));
  });
});

describe('flow resize kernel', () => {
  it.each([
    [7, 3, TORCH_RESIZE_7x3],
    [3, 9, TORCH_RESIZE_3x9],
  ])(
    'matches PyTorch interpolate(align_corners=False) + vector scaling to %ix%i rows x cols',
    async (outH, outW, torch) => {
      const params = { inWidth: FIX.W, inHeight: FIX.H, outWidth: outW, outHeight: outH };
      const ref = resizeFlowRef(fixtureFlow(), params);
      expect(maxAbsDiff(ref, torch)).toBeLessThanOrEqual(1e-6);
      expect(maxAbsDiff(await gpuResize(fixtureFlow(), params), torch)).toBeLessThanOrEqual(4e-6);
    },
  );

  it('a constant flow stays constant and is scaled per axis', async () => {
    const params = { inWidth: 6, inHeight: 4, outWidth: 24, outHeight: 8 };
    const flow = new Float32Array(2 * 6 * 4);
    flow.fill(1.5, 0, 24);
    flow.fill(-0.75, 24);
    const gpu = await gpuResize(flow, params);
    for (let i = 0; i < 24 * 8; i++) {
      expect(gpu[i]).toBeCloseTo(1.5 * 4, 5);
      expect(gpu[24 * 8 + i]).toBeCloseTo(-0.75 * 2, 5);
    }
  });

  it.each([
    [12, 12, 96, 96],
    [96, 96, 12, 12],
    [37, 23, 19, 41],
  ])('matches the CPU reference %ix%i -> %ix%i', async (iw, ih, ow, oh) => {
    const params = { inWidth: iw, inHeight: ih, outWidth: ow, outHeight: oh };
    const flow = randomFloats(2 * iw * ih, iw * ih, -4, 4);
    const ref = resizeFlowRef(flow, params);
    const gpu = await gpuResize(flow, params);
    expect(maxAbsDiff(gpu, ref)).toBeLessThanOrEqual(1e-5 * Math.max(ow / iw, oh / ih, 1));
  });
});
