import { describe, expect, it } from 'vitest';
import { testDevice, withValidation } from '../../../test/gpu-device.ts';
import { planTiles } from '../../engine/tiling.ts';
import { readFloat32 } from '../../gpu/readback.ts';
import { randomFloats } from '../../shared/random.ts';
import { prepareAccumulate, prepareResolve, type BlendTile } from './tile-blend.ts';
import { accumulateRef, resolveRef } from './tile-blend.ref.ts';

function storage(device: GPUDevice, data: Float32Array<ArrayBuffer> | number): GPUBuffer {
  const size = typeof data === 'number' ? data * 4 : data.byteLength;
  const buffer = device.createBuffer({
    size,
    usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST,
  });
  if (typeof data !== 'number') device.queue.writeBuffer(buffer, 0, data);
  return buffer;
}

/** Cuts tiles out of a known frame, blends them on the GPU and on the CPU. */
async function blendFrame(
  frameW: number,
  frameH: number,
  tileSize: number,
  overlap: number,
  scale: number,
) {
  const device = await testDevice();
  const channels = 3;
  const frame = { width: frameW * scale, height: frameH * scale };
  const plan = planTiles(frameW, frameH, tileSize, overlap);
  const tw = plan.tileWidth * scale;
  const th = plan.tileHeight * scale;
  const truth = randomFloats(channels * frame.width * frame.height, 17, -1, 1);
  const acc = storage(device, channels * frame.width * frame.height);
  const weight = storage(device, frame.width * frame.height);
  const tileBuf = storage(device, channels * tw * th);
  const out = storage(device, channels * frame.width * frame.height);
  const accRef = new Float32Array(channels * frame.width * frame.height);
  const weightRef = new Float32Array(frame.width * frame.height);
  const blends: BlendTile[] = plan.tiles.map((t) => ({
    x: t.x * scale,
    y: t.y * scale,
    width: tw,
    height: th,
    rampLeft: t.rampLeft * scale,
    rampRight: t.rampRight * scale,
    rampTop: t.rampTop * scale,
    rampBottom: t.rampBottom * scale,
  }));
  await withValidation(device, () => {
    const acc0 = prepareAccumulate(
      device,
      channels,
      { tileOutput: tileBuf, acc, weight },
      blends[0]!,
      frame,
    );
    for (const blend of blends) {
      // the tile "model output" is the truth cut out at the tile (plus noise that differs per tile)
      const cut = new Float32Array(channels * tw * th);
      const noise = randomFloats(cut.length, blend.x * 31 + blend.y, -0.01, 0.01);
      for (let c = 0; c < channels; c++)
        for (let y = 0; y < th; y++)
          for (let x = 0; x < tw; x++)
            cut[c * tw * th + y * tw + x] =
              truth[c * frame.width * frame.height + (blend.y + y) * frame.width + blend.x + x]! +
              noise[c * tw * th + y * tw + x]!;
      device.queue.writeBuffer(tileBuf, 0, cut);
      acc0.update(blend);
      const encoder = device.createCommandEncoder();
      acc0.encode(encoder);
      device.queue.submit([encoder.finish()]);
      accumulateRef(channels, cut, accRef, weightRef, blend, frame);
    }
    const resolve = prepareResolve(device, channels, { acc, weight, output: out }, frame);
    const encoder = device.createCommandEncoder();
    resolve.encode(encoder);
    device.queue.submit([encoder.finish()]);
    acc0.destroy();
    resolve.destroy();
    return Promise.resolve();
  });
  const gpu = await readFloat32(device, out, channels * frame.width * frame.height);
  const ref = resolveRef(channels, accRef, weightRef, frame);
  for (const b of [acc, weight, tileBuf, out]) b.destroy();
  return { gpu, ref, truth, plan };
}

describe('tile-blend kernel', () => {
  it('matches the CPU reference and reproduces the frame across seams', async () => {
    const { gpu, ref, truth, plan } = await blendFrame(45, 31, 16, 6, 2);
    expect(plan.tiles.length).toBeGreaterThan(4);
    let maxRef = 0;
    let maxTruth = 0;
    for (let i = 0; i < ref.length; i++) {
      maxRef = Math.max(maxRef, Math.abs(gpu[i]! - ref[i]!));
      maxTruth = Math.max(maxTruth, Math.abs(gpu[i]! - truth[i]!));
    }
    expect(maxRef).toBeLessThan(1e-5);
    // blending tiles of the same truth (with +-0.01 noise) never strays beyond the noise
    expect(maxTruth).toBeLessThanOrEqual(0.0100001);
  });
});
