import { describe, expect, it } from 'vitest';
import { testDevice, withValidation } from '../../../test/gpu-device.ts';
import { planLatentTiles } from '../../engine/dloral-pack.ts';
import { readFloat32 } from '../../gpu/readback.ts';
import { randomFloats } from '../../shared/random.ts';
import { prepareResolve } from '../tile-blend/tile-blend.ts';
import { resolveRef } from '../tile-blend/tile-blend.ref.ts';
import { prepareLatentBlend } from './latent-blend.ts';
import { accumulateDiffRef } from './latent-blend.ref.ts';

function storage(device: GPUDevice, data: Float32Array<ArrayBuffer> | number): GPUBuffer {
  const size = typeof data === 'number' ? data * 4 : data.byteLength;
  const buffer = device.createBuffer({
    size,
    usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST,
  });
  if (typeof data !== 'number') device.queue.writeBuffer(buffer, 0, data);
  return buffer;
}

describe('latent-blend', () => {
  it('blends a - b over the released Gaussian tile grid like the CPU reference', async () => {
    const device = await testDevice();
    const channels = 4;
    const frame = { width: 22, height: 17 };
    const plan = planLatentTiles(frame.width, frame.height, 9, 3);
    expect(plan.tiles.length).toBeGreaterThan(4);
    const t = plan.tileWidth;
    const n = channels * frame.width * frame.height;
    const accRef = new Float32Array(n);
    const weightRef = new Float32Array(frame.width * frame.height);
    const acc = storage(device, n);
    const weight = storage(device, frame.width * frame.height);
    const a = storage(device, channels * t * t);
    const b = storage(device, channels * t * t);
    const weights = storage(device, plan.weights);
    const out = storage(device, n);
    await withValidation(device, async () => {
      const slots = plan.tiles.map((tile) =>
        prepareLatentBlend(
          device,
          channels,
          { a, b, weights, acc, weight },
          { ...tile, width: t, height: t },
          frame,
        ),
      );
      for (const [i, tile] of plan.tiles.entries()) {
        const ta = randomFloats(channels * t * t, 100 + i, -2, 2);
        const tb = randomFloats(channels * t * t, 200 + i, -1, 1);
        device.queue.writeBuffer(a, 0, ta);
        device.queue.writeBuffer(b, 0, tb);
        const encoder = device.createCommandEncoder();
        slots[i]!.encode(encoder);
        device.queue.submit([encoder.finish()]);
        accumulateDiffRef(
          channels,
          ta,
          tb,
          plan.weights,
          accRef,
          weightRef,
          {
            ...tile,
            width: t,
            height: t,
          },
          frame,
        );
      }
      const resolve = prepareResolve(device, channels, { acc, weight, output: out }, frame);
      const encoder = device.createCommandEncoder();
      resolve.encode(encoder);
      device.queue.submit([encoder.finish()]);
      const gpu = await readFloat32(device, out, n);
      const cpu = resolveRef(channels, accRef, weightRef, frame);
      let max = 0;
      for (let i = 0; i < n; i++) max = Math.max(max, Math.abs(gpu[i]! - cpu[i]!));
      expect(max).toBeLessThan(1e-5);
      // every pixel is covered
      expect(weightRef.every((w) => w > 0)).toBe(true);
      for (const s of slots) s.destroy();
      resolve.destroy();
    });
  });

  it('keeps the released weight quirk: x centred at (w - 1) / 2, y at h / 2', () => {
    const plan = planLatentTiles(20, 20, 8, 2);
    const w = plan.weights;
    // symmetric in x: column 0 equals column 7; not in y: row 0 differs from row 7
    expect(w[0]).toBeCloseTo(w[7]!, 7);
    expect(w[7 * 8]! / w[0]!).toBeGreaterThan(2);
    // the peak row is y = 4 (h / 2)
    const row = (y: number) => w[y * 8 + 3]!;
    expect(row(4)).toBeGreaterThan(row(3));
    expect(row(4)).toBeGreaterThan(row(5));
  });
});
