import { describe, expect, it } from 'vitest';
import { testDevice, withValidation } from '../../../test/gpu-device.ts';
import { readTextureRgba8 } from '../../gpu/readback.ts';
import { deinterlaceRgba } from '../../shared/deinterlace-rows.ts';
import { mulberry32 } from '../../shared/random.ts';
import { prepareDeinterlace } from './deinterlace.ts';

/**
 * An RGBA frame of woven fields at frame `n`: red a scene with one-row stripes, a diagonal edge
 * and a bar moving 3 pixels a field; green noise; blue the bar moving the other way over a
 * gradient; alpha varying (it must be copied). Wrong directions, wrong rows, a lost clamp or a
 * channel mixed up all change the result.
 */
function wovenFrame(w: number, h: number, n: number, seed: number): Uint8Array<ArrayBuffer> {
  const random = mulberry32(seed);
  const out = new Uint8Array(w * h * 4);
  for (let y = 0; y < h; y++) {
    const t = 2 * n + (y % 2);
    for (let x = 0; x < w; x++) {
      const i = (y * w + x) * 4;
      let r = 60 + x + y;
      if (x < 5) r = y % 2 === 0 ? 40 : 200;
      else if (x - y / 2 > w / 2) r = 180;
      if (x >= 8 + 3 * t && x < 14 + 3 * t && y > 2 && y < h - 3) r = 235;
      let b = 20 + 4 * y;
      if (x <= w - 6 - 2 * t && x > w - 12 - 2 * t) b = 10;
      out[i] = r;
      out[i + 1] = Math.floor(random() * 256);
      out[i + 2] = b;
      out[i + 3] = (x * 7 + y * 3) & 255;
    }
  }
  return out;
}

function texture(device: GPUDevice, w: number, h: number, data?: Uint8Array<ArrayBuffer>) {
  const t = device.createTexture({
    size: { width: w, height: h },
    format: 'rgba8unorm',
    usage:
      GPUTextureUsage.TEXTURE_BINDING |
      GPUTextureUsage.STORAGE_BINDING |
      GPUTextureUsage.COPY_DST |
      GPUTextureUsage.COPY_SRC,
  });
  if (data) {
    device.queue.writeTexture(
      { texture: t },
      data,
      { bytesPerRow: w * 4 },
      { width: w, height: h },
    );
  }
  return t;
}

function differing(a: Uint8Array, b: Uint8Array): number {
  let n = 0;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) n++;
  return n;
}

describe('deinterlace kernel', () => {
  for (const [w, h, fields] of [
    [45, 30, 'top-first'],
    [33, 19, 'top-first'],
    [3, 6, 'top-first'],
    [45, 30, 'bottom-first'],
    [33, 19, 'bottom-first'],
  ] as const) {
    it(`matches the CPU rule bit for bit on ${w}x${h}, ${fields}, with and without a previous frame`, async () => {
      const bottomFirst = fields === 'bottom-first';
      const device = await testDevice();
      const prevData = wovenFrame(w, h, 1, 11);
      const curData = wovenFrame(w, h, 2, 12);
      const prev = texture(device, w, h, prevData);
      const cur = texture(device, w, h, curData);
      const out = texture(device, w, h);
      await withValidation(device, async () => {
        const pass = prepareDeinterlace(device, { cur, prev, out });
        const results: Uint8Array[] = [];
        for (const hasPrevious of [false, true]) {
          const encoder = device.createCommandEncoder();
          pass.encode(encoder, hasPrevious, bottomFirst);
          device.queue.submit([encoder.finish()]);
          const gpu = await readTextureRgba8(device, out);
          const cpu = new Uint8Array(w * h * 4);
          deinterlaceRgba(curData, hasPrevious ? prevData : null, cpu, w, h, bottomFirst);
          expect(differing(gpu, cpu)).toBe(0);
          results.push(gpu);
        }
        pass.destroy();
        if (w > 5) {
          // the rule did something here, and something else with the previous frame
          expect(differing(results[0]!, curData)).toBeGreaterThan((w * h) / 4);
          expect(differing(results[0]!, results[1]!)).toBeGreaterThan((w * h) / 8);
        }
      });
      for (const t of [prev, cur, out]) t.destroy();
    });
  }
});
