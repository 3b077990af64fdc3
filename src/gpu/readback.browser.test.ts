/**
 * deviceLoss answers from the device itself: a working device is not called lost, and a destroyed
 * one is, even while the job's own pending map failed first (the order seen in e2e/device-lost).
 */
import { describe, expect, it } from 'vitest';
import { acquireGpu } from './device.ts';
import { deviceLoss, readBuffer } from './readback.ts';

describe('deviceLoss', () => {
  it('says null for a working device, and the device still maps afterwards', async () => {
    const { device } = await acquireGpu(navigator.gpu);
    try {
      expect(await deviceLoss(device, 60_000)).toBeNull();
      const buffer = device.createBuffer({ size: 16, usage: GPUBufferUsage.COPY_SRC });
      expect((await readBuffer(device, buffer)).byteLength).toBe(16);
      buffer.destroy();
    } finally {
      device.destroy();
    }
  });

  it('names the loss of a device destroyed under a pending map', async () => {
    const { device } = await acquireGpu(navigator.gpu);
    const buffer = device.createBuffer({ size: 16, usage: GPUBufferUsage.COPY_SRC });
    const pending = readBuffer(device, buffer).then(
      () => 'mapped',
      (err: unknown) => (err instanceof Error ? err.message : String(err)),
    );
    device.destroy();
    expect(await pending).not.toBe('mapped');
    const loss = await deviceLoss(device, 60_000);
    expect(loss).toEqual(expect.any(String));
    expect(loss).not.toBe('');
  });
});
