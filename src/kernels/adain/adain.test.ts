import { describe, expect, it } from 'vitest';
import { testDevice, withValidation } from '../../../test/gpu-device.ts';
import { readFloat32 } from '../../gpu/readback.ts';
import { mulberry32 } from '../../shared/random.ts';
import { prepareAdain, type AdainParams } from './adain.ts';
import { adainRef, meanStdRef } from './adain.ref.ts';

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i]! - b[i]!));
  return max;
}

/** Per channel: offset + spread * (uniform noise + a smooth ramp), so channels differ a lot. */
function image(
  params: AdainParams,
  seed: number,
  offsets: number[],
  spreads: number[],
): Float32Array<ArrayBuffer> {
  const rand = mulberry32(seed);
  const { channels, width, height } = params;
  const out = new Float32Array(channels * width * height);
  for (let c = 0; c < channels; c++) {
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        const v = rand() - 0.5 + 0.3 * Math.sin((x + 3 * c) / 17) * Math.cos(y / 11);
        out[(c * height + y) * width + x] =
          offsets[c % offsets.length]! + spreads[c % spreads.length]! * v;
      }
    }
  }
  return out;
}

async function gpuAdain(
  device: GPUDevice,
  content: Float32Array<ArrayBuffer>,
  reference: Float32Array<ArrayBuffer>,
  params: AdainParams,
): Promise<{ out: Float32Array; stats: Float32Array }> {
  const usage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC;
  const make = (data: Float32Array<ArrayBuffer>): GPUBuffer => {
    const b = device.createBuffer({ size: data.byteLength, usage });
    device.queue.writeBuffer(b, 0, data);
    return b;
  };
  const c = make(content);
  const r = make(reference);
  const o = device.createBuffer({ size: content.byteLength, usage });
  const result = await withValidation(device, async () => {
    const adain = prepareAdain(device, { content: c, reference: r, output: o }, params);
    const encoder = device.createCommandEncoder();
    adain.encode(encoder);
    device.queue.submit([encoder.finish()]);
    const out = await readFloat32(device, o, content.length);
    const stats = await readFloat32(device, adain.stats, 2 * params.channels * 4);
    adain.destroy();
    return { out, stats };
  });
  for (const b of [c, r, o]) b.destroy();
  return result;
}

function checkStats(
  stats: Float32Array,
  content: Float32Array,
  reference: Float32Array,
  params: AdainParams,
  relTol: number,
): void {
  const plane = params.width * params.height;
  const refs = [
    meanStdRef(content, params.channels, plane),
    meanStdRef(reference, params.channels, plane),
  ];
  refs.forEach((ref, t) => {
    for (let c = 0; c < params.channels; c++) {
      const k = (t * params.channels + c) * 4;
      const scale = Math.abs(ref.mean[c]!) + ref.std[c]!;
      expect(Math.abs(stats[k]! - ref.mean[c]!) / scale).toBeLessThan(relTol);
      expect(Math.abs(stats[k + 1]! - ref.std[c]!) / ref.std[c]!).toBeLessThan(relTol);
    }
  });
}

describe('adain kernel', () => {
  it('the reference uses the unbiased variance plus eps inside the sqrt', () => {
    const { mean, std } = meanStdRef(new Float32Array([1, 2, 3, 4]), 1, 4);
    expect(mean[0]).toBe(2.5);
    expect(std[0]).toBeCloseTo(Math.sqrt(5 / 3 + 1e-5), 12);
    // a constant plane has std sqrt(eps), so the output is the reference mean, not NaN
    const out = adainRef(new Float32Array([2, 2, 2]), new Float32Array([0, 1, 5]), {
      channels: 1,
      width: 3,
      height: 1,
    });
    expect(Array.from(out)).toEqual([2, 2, 2].map(() => Math.fround(2)));
  });

  it.each<[string, AdainParams]>([
    ['3 x 23 x 37', { channels: 3, width: 37, height: 23 }],
    ['4 x 45 x 81 (latent-like)', { channels: 4, width: 81, height: 45 }],
    ['1 x 1 x 1023 (segments not a multiple of 256)', { channels: 1, width: 1023, height: 1 }],
  ])('GPU matches the f64 reference: %s', async (_name, params) => {
    const device = await testDevice();
    const content = image(params, 5, [0.2, -0.4, 0.9, 0], [0.5, 1.5, 0.1, 2]);
    const reference = image(params, 6, [-0.1, 0.3, 0.05, 1], [1.2, 0.2, 0.7, 0.01]);
    const { out, stats } = await gpuAdain(device, content, reference, params);
    checkStats(stats, content, reference, params, 2e-6);
    expect(maxAbsDiff(out, adainRef(content, reference, params))).toBeLessThan(1e-5);
  });

  it('stays accurate on a 3 x 720 x 1280 plane with a large mean and a small spread', async () => {
    const device = await testDevice();
    const params: AdainParams = { channels: 3, width: 1280, height: 720 };
    // a naive f32 sum of squares loses the variance here (mean^2 / var is about 1e4)
    const content = image(params, 9, [0.8, -0.6, 0.5], [0.02, 0.05, 0.3]);
    const reference = image(params, 10, [0.1, 0.7, -0.9], [0.3, 0.01, 0.2]);
    const { out, stats } = await gpuAdain(device, content, reference, params);
    checkStats(stats, content, reference, params, 1e-5);
    const ref = adainRef(content, reference, params);
    // outputs are about 1 in magnitude; 1e-5 is a few tens of f32 ulps
    expect(maxAbsDiff(out, ref)).toBeLessThan(1e-4);
    let sum = 0;
    for (let i = 0; i < ref.length; i++) sum += Math.abs(out[i]! - ref[i]!);
    expect(sum / ref.length).toBeLessThan(1e-5);
  });
});
