/**
 * SpynetFlow in real Chromium: the tiny pack's SpyNet (models/tiny-dloral/spynet.ts) run by the
 * provider on GPU buffers must give the flow the wasm session gives on the same frames.
 */
import { describe, expect, it } from 'vitest';
import { testGpu } from '../../test/gpu-device.ts';
import { readFloat32 } from '../gpu/readback.ts';
import { tinySpynet } from '../../models/tiny-dloral/spynet.ts';
import { cpuTensor, Session, tensorData } from './ort.ts';
import { SpynetFlow } from './spynet-flow.ts';

/** Smooth frames in [-1, 1] with a per-frame phase, so current and previous differ. */
function frame(width: number, height: number, phase: number): Float32Array<ArrayBuffer> {
  const out = new Float32Array(3 * width * height);
  for (let c = 0; c < 3; c++)
    for (let y = 0; y < height; y++)
      for (let x = 0; x < width; x++)
        out[(c * height + y) * width + x] =
          0.8 * Math.sin(0.9 * x + 0.5 * y + phase + 2 * c) * Math.cos(0.3 * y - 0.7 * c);
  return out;
}

describe('SpynetFlow (browser, tiny SpyNet)', () => {
  it('writes the wasm session flow into the caller buffer, with either buffer as current', async () => {
    const { device } = await testGpu();
    const spynet = tinySpynet();
    // not square, so a width/height swap would show
    const [width, height] = [13, 9];
    const freeDimensions = { h: height, w: width };
    const gpuSession = await Session.create(spynet.bytes, {
      backend: 'webgpu',
      device,
      name: 'SpyNet',
      freeDimensions,
    });
    const cpuSession = await Session.create(spynet.bytes, {
      backend: 'wasm',
      name: 'SpyNet',
      freeDimensions,
    });
    const usage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;
    const plane = width * height;
    const a = frame(width, height, 0);
    const b = frame(width, height, 0.6);
    const bufA = device.createBuffer({ size: 3 * plane * 4, usage });
    const bufB = device.createBuffer({ size: 3 * plane * 4, usage });
    const out = device.createBuffer({ size: 2 * plane * 4, usage });
    device.queue.writeBuffer(bufA, 0, a);
    device.queue.writeBuffer(bufB, 0, b);
    const provider = new SpynetFlow(gpuSession, spynet.info, width, height);
    expect([provider.width, provider.height]).toEqual([width, height]);

    const dims = [1, 3, height, width];
    const reference = async (current: Float32Array, previous: Float32Array) =>
      tensorData(
        (
          await cpuSession.run({
            current: cpuTensor(current, dims),
            previous: cpuTensor(previous, dims),
          })
        )['flow']!,
      );
    const viaProvider = async (current: GPUBuffer, previous: GPUBuffer) => {
      const encoder = device.createCommandEncoder();
      await provider.encode(encoder, current, previous, out);
      device.queue.submit([encoder.finish()]);
      return readFloat32(device, out, 2 * plane);
    };
    const maxAbs = (x: Float32Array, y: Float32Array) =>
      x.reduce((m, v, i) => Math.max(m, Math.abs(v - y[i]!)), 0);

    const refAB = await reference(a, b);
    const refBA = await reference(b, a);
    // the two directions really differ, so a swapped role would fail below
    expect(maxAbs(refAB, refBA)).toBeGreaterThan(0.05);
    const meanAbs = refAB.reduce((s, v) => s + Math.abs(v), 0) / refAB.length;
    expect(meanAbs).toBeGreaterThan(0.1);
    for (const [cur, prev, ref] of [
      [bufA, bufB, refAB],
      [bufB, bufA, refBA],
      [bufA, bufB, refAB],
    ] as const) {
      const got = await viaProvider(cur, prev);
      const d = maxAbs(got, ref);
      console.log(
        `SpyNet WebGPU vs wasm: max |d| ${d.toExponential(2)} px (mean |flow| ${meanAbs.toFixed(3)})`,
      );
      expect(d).toBeLessThan(1e-4);
    }
    // two frame buffers and one flow buffer: wrapped once each, nothing new in the steady state
    expect(provider.cachedTensors).toBe(3);

    provider.destroy();
    expect(provider.cachedTensors).toBe(0);
    await gpuSession.release();
    await cpuSession.release();
    for (const buffer of [bufA, bufB, out]) buffer.destroy();
  });
});
