import { describe, expect, it } from 'vitest';
import { testDevice, withValidation } from '../../../test/gpu-device.ts';
import { readFloat32 } from '../../gpu/readback.ts';
import { mulberry32, randomFloats } from '../../shared/random.ts';
import { prepareTemporalFeatures, TEMPORAL_FEATURE_CHANNELS } from './temporal-features.ts';
import { temporalFeaturesRef } from './temporal-features.ref.ts';

function storage(device: GPUDevice, data: Float32Array<ArrayBuffer> | number): GPUBuffer {
  const size = typeof data === 'number' ? data * 4 : data.byteLength;
  const buffer = device.createBuffer({
    size: Math.max(16, size),
    usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC,
  });
  if (typeof data !== 'number') device.queue.writeBuffer(buffer, 0, data);
  return buffer;
}

async function gpuFeatures(
  current: Float32Array<ArrayBuffer>,
  reference: Float32Array<ArrayBuffer>,
  params: { width: number; height: number; penalty: number },
): Promise<{ current: Float32Array; reference: Float32Array }> {
  const device = await testDevice();
  return withValidation(device, async () => {
    const count = TEMPORAL_FEATURE_CHANNELS * params.width * params.height;
    const b = {
      current: storage(device, current),
      reference: storage(device, reference),
      currentFeatures: storage(device, count),
      referenceFeatures: storage(device, count),
    };
    const kernel = prepareTemporalFeatures(device, b, params);
    const encoder = device.createCommandEncoder();
    kernel.encode(encoder);
    device.queue.submit([encoder.finish()]);
    const out = {
      current: await readFloat32(device, b.currentFeatures, count),
      reference: await readFloat32(device, b.referenceFeatures, count),
    };
    kernel.destroy();
    for (const buffer of Object.values(b)) buffer.destroy();
    return out;
  });
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i]! - b[i]!));
  return max;
}

/** A frame with flat areas and a sharp edge, and a reference that is partly outside (valid 0). */
function scene(w: number, h: number, seed: number) {
  const plane = w * h;
  const rand = mulberry32(seed);
  const current = new Float32Array(3 * plane);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++)
      for (let c = 0; c < 3; c++)
        current[c * plane + y * w + x] = (x < w / 2 ? 0.2 : 0.8) + 0.02 * c + 0.01 * rand();
  const reference = new Float32Array(4 * plane);
  const noise = randomFloats(3 * plane, seed + 1, -0.05, 0.05);
  for (let i = 0; i < 3 * plane; i++) reference[i] = current[i]! + noise[i]!;
  for (let i = 0; i < plane; i++) reference[3 * plane + i] = i % w < 3 ? 0 : i % w === 3 ? 0.5 : 1;
  return { current, reference };
}

describe('temporal-features kernel', () => {
  it('writes the documented channels (checked by hand on one pixel)', () => {
    const { current, reference } = scene(8, 6, 3);
    const plane = 48;
    const out = temporalFeaturesRef(current, reference, { width: 8, height: 6, penalty: 4 });
    const i = 2 * 8 + 1; // x = 1: invalid reference, flat left half
    const c = [0, 1, 2].map((k) => current[k * plane + i]!);
    const r = [0, 1, 2].map((k) => reference[k * plane + i]!);
    const sq = (v: number[]) => v.reduce((a, b) => a + b * b, 0);
    expect(out.current[3 * plane + i]).toBe(1);
    expect(out.current[4 * plane + i]).toBeCloseTo(sq(c), 6);
    expect(out.reference[3 * plane + i]).toBeCloseTo(sq(r) + 4, 5);
    expect(out.reference[4 * plane + i]).toBeCloseTo(r[0]! - c[0]!, 6);
    // local luma variance: tiny on the flat half, large on the edge (x = 3, 4)
    expect(out.current[5 * plane + i]).toBeLessThan(1e-4);
    expect(out.current[5 * plane + 2 * 8 + 4]).toBeGreaterThan(0.05);
  });

  it.each([
    [8, 6, 1],
    [37, 23, 2],
    [1, 5, 3],
    [64, 1, 4],
  ])('matches the CPU reference on %ix%i (seed %i)', async (w, h, seed) => {
    const { current, reference } = scene(w, h, seed);
    const params = { width: w, height: h, penalty: 4 };
    const ref = temporalFeaturesRef(current, reference, params);
    const gpu = await gpuFeatures(current, reference, params);
    expect(maxAbsDiff(gpu.current, ref.current)).toBeLessThanOrEqual(1e-6);
    expect(maxAbsDiff(gpu.reference, ref.reference)).toBeLessThanOrEqual(1e-6);
  });
});
