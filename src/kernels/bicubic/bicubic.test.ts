import { describe, expect, it } from 'vitest';
import { testDevice, withValidation } from '../../../test/gpu-device.ts';
import { readFloat32 } from '../../gpu/readback.ts';
import { randomFloats } from '../../shared/random.ts';
import { bicubicOutputElements, prepareBicubic, type BicubicParams } from './bicubic.ts';
import { bicubicRef } from './bicubic.ref.ts';
import fixture from './bicubic.torch.json';

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i]! - b[i]!));
  return max;
}

async function gpuBicubic(
  device: GPUDevice,
  input: Float32Array<ArrayBuffer>,
  params: BicubicParams,
): Promise<Float32Array> {
  const src = device.createBuffer({
    size: input.byteLength,
    usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST,
  });
  device.queue.writeBuffer(src, 0, input);
  const count = bicubicOutputElements(params);
  const dst = device.createBuffer({
    size: count * 4,
    usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC,
  });
  const result = await withValidation(device, async () => {
    const dispatch = prepareBicubic(device, src, dst, params);
    const encoder = device.createCommandEncoder();
    dispatch.encode(encoder);
    device.queue.submit([encoder.finish()]);
    const out = await readFloat32(device, dst, count);
    dispatch.destroy();
    return out;
  });
  src.destroy();
  dst.destroy();
  return result;
}

const CASES: [string, BicubicParams][] = [
  [
    '37x23 x4, 3 channels',
    { channels: 3, inWidth: 37, inHeight: 23, outWidth: 148, outHeight: 92 },
  ],
  [
    '37x23 -> 61x50 (non-integer)',
    { channels: 2, inWidth: 37, inHeight: 23, outWidth: 61, outHeight: 50 },
  ],
  [
    '37x23 -> 20x9 (downscale)',
    { channels: 1, inWidth: 37, inHeight: 23, outWidth: 20, outHeight: 9 },
  ],
  [
    '37x23 by factor 1.7 (1 / factor, not in / out)',
    {
      channels: 1,
      inWidth: 37,
      inHeight: 23,
      outWidth: 62,
      outHeight: 39,
      scaleFactor: [1.7, 1.7],
    },
  ],
];

describe('bicubic kernel', () => {
  it('the CPU reference reproduces torch 1.13 F.interpolate(bicubic, align_corners=False)', () => {
    expect(fixture.cases.length).toBe(4);
    for (const c of fixture.cases) {
      const factor = c.scaleFactor;
      const params: BicubicParams = {
        channels: c.channels,
        inWidth: c.inWidth,
        inHeight: c.inHeight,
        outWidth: c.outWidth,
        outHeight: c.outHeight,
        ...(factor === null ? {} : { scaleFactor: [factor, factor] as const }),
      };
      const out = bicubicRef(new Float32Array(c.input), params);
      expect(maxAbsDiff(out, c.output), c.name).toBeLessThan(2e-6);
    }
  });

  it('a hand case: x2 of a 1-D step matches the closed-form cubic weights', () => {
    // Weights at t = 0.25 are conv2(1.25), conv1(0.25), conv1(0.75), conv2(1.75) =
    // -0.10546875, 0.87890625, 0.26171875, -0.03515625 (reversed at t = 0.75).
    const out = bicubicRef(new Float32Array([0, 0, 1, 1]), {
      channels: 1,
      inWidth: 4,
      inHeight: 1,
      outWidth: 8,
      outHeight: 1,
    });
    // x = 3: s = 1.25, taps 0..3 = [0, 0, 1, 1] -> 0.26171875 - 0.03515625
    expect(out[3]).toBeCloseTo(0.2265625, 7);
    // x = 4: s = 1.75, same taps, t = 0.75 -> 0.87890625 - 0.10546875
    expect(out[4]).toBeCloseTo(0.7734375, 7);
    // x = 5: s = 2.25, taps 1..4 clamp to [0, 1, 1, 1] -> overshoot 1 + 0.10546875, not clamped
    expect(out[5]).toBeCloseTo(1.10546875, 7);
    // x = 0: s = -0.25 is not clamped to 0 (cubic), taps clamp to index 0 -> exactly 0
    expect(out[0]).toBe(0);
  });

  it.each(CASES)('GPU matches the CPU reference: %s', async (_name, params) => {
    const device = await testDevice();
    const input = randomFloats(params.channels * params.inWidth * params.inHeight, 17, -1, 1);
    const gpu = await gpuBicubic(device, input, params);
    const ref = bicubicRef(input, params);
    // FMA contraction on the GPU may change the last bit of a few products and sums
    expect(maxAbsDiff(gpu, ref)).toBeLessThan(2e-6);
    // Overshoot is kept (no clamp): some output must leave [-1, 1] on random data when upsampling
    if (params.outWidth > params.inWidth) {
      expect(gpu.some((v) => Math.abs(v) > 1)).toBe(true);
    }
  });

  it('update() resizes without rebuilding', async () => {
    const device = await testDevice();
    const first: BicubicParams = {
      channels: 1,
      inWidth: 9,
      inHeight: 7,
      outWidth: 36,
      outHeight: 28,
    };
    const second: BicubicParams = {
      channels: 1,
      inWidth: 9,
      inHeight: 7,
      outWidth: 13,
      outHeight: 11,
    };
    const input = randomFloats(9 * 7, 3, -1, 1);
    const src = device.createBuffer({
      size: input.byteLength,
      usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST,
    });
    device.queue.writeBuffer(src, 0, input);
    const dst = device.createBuffer({
      size: bicubicOutputElements(first) * 4,
      usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC,
    });
    const dispatch = prepareBicubic(device, src, dst, first);
    dispatch.update(second);
    const encoder = device.createCommandEncoder();
    dispatch.encode(encoder);
    device.queue.submit([encoder.finish()]);
    const gpu = await readFloat32(device, dst, bicubicOutputElements(second));
    expect(maxAbsDiff(gpu, bicubicRef(input, second))).toBeLessThan(2e-6);
    dispatch.destroy();
    src.destroy();
    dst.destroy();
  });
});
