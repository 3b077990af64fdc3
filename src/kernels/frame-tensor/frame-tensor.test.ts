import { describe, expect, it } from 'vitest';
import { testDevice, withValidation } from '../../../test/gpu-device.ts';
import { readFloat32, readTextureRgba8 } from '../../gpu/readback.ts';
import { mulberry32, randomBytes } from '../../shared/random.ts';
import {
  prepareFromTensor,
  prepareToTensor,
  RANGE_AFFINE,
  tensorElements,
  type Region,
  type TensorRange,
} from './frame-tensor.ts';
import { quantizeRef, rgbaToTensorRef, tensorToRgbaRef } from './frame-tensor.ref.ts';

const RANGES: TensorRange[] = ['0,1', '-1,1', '0,255'];

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i]! - b[i]!));
  return max;
}

function makeTexture(
  device: GPUDevice,
  w: number,
  h: number,
  rgba: Uint8Array<ArrayBuffer>,
): GPUTexture {
  const texture = device.createTexture({
    size: { width: w, height: h },
    format: 'rgba8unorm',
    usage:
      GPUTextureUsage.TEXTURE_BINDING |
      GPUTextureUsage.STORAGE_BINDING |
      GPUTextureUsage.COPY_DST |
      GPUTextureUsage.COPY_SRC,
  });
  device.queue.writeTexture({ texture }, rgba, { bytesPerRow: w * 4 }, { width: w, height: h });
  return texture;
}

async function gpuToTensor(
  device: GPUDevice,
  rgba: Uint8Array<ArrayBuffer>,
  w: number,
  h: number,
  region: Region,
  range: TensorRange,
): Promise<Float32Array> {
  const texture = makeTexture(device, w, h, rgba);
  const count = tensorElements(region);
  const output = device.createBuffer({
    size: count * 4,
    usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC,
  });
  const dispatch = prepareToTensor(device, texture, output, { region, range });
  const encoder = device.createCommandEncoder();
  dispatch.encode(encoder);
  device.queue.submit([encoder.finish()]);
  const result = await readFloat32(device, output, count);
  dispatch.destroy();
  output.destroy();
  texture.destroy();
  return result;
}

/** Values at k/255 plus a jitter that keeps them away from the half-level rounding boundary. */
function tensorValues(count: number, seed: number, range: TensorRange): Float32Array<ArrayBuffer> {
  const rand = mulberry32(seed);
  const { scale, offset } = RANGE_AFFINE[range];
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) {
    const r = rand();
    // about 10% of values fall outside the range to exercise the clamp
    const level = r < 0.05 ? -20 : r > 0.95 ? 275 : Math.floor(rand() * 256);
    const unit = (level + (rand() - 0.5) * 0.8) / 255;
    out[i] = unit * scale + offset;
  }
  return out;
}

describe('frame-tensor kernel', () => {
  it.each(RANGES)('texture -> tensor matches the CPU reference, range [%s]', async (range) => {
    const device = await testDevice();
    const [w, h] = [37, 23];
    const rgba = randomBytes(w * h * 4, 11);
    const region = { x: 0, y: 0, width: w, height: h };
    const gpu = await gpuToTensor(device, rgba, w, h, region, range);
    const ref = rgbaToTensorRef(rgba, w, h, region, range);
    // unorm8 -> f32 conversion may be one ulp off k/255 on some drivers
    expect(maxAbsDiff(gpu, ref)).toBeLessThanOrEqual(1e-6 * RANGE_AFFINE[range].scale);
    console.log('ENDCASE', range);
  });

  it('a region hanging over the border replicates the edge pixels', async () => {
    const device = await testDevice();
    const [w, h] = [19, 13];
    const rgba = randomBytes(w * h * 4, 5);
    const region = { x: -3, y: 7, width: 25, height: 11 };
    const gpu = await gpuToTensor(device, rgba, w, h, region, '0,1');
    const ref = rgbaToTensorRef(rgba, w, h, region, '0,1');
    expect(maxAbsDiff(gpu, ref)).toBeLessThanOrEqual(1e-6);
    // first tensor pixel is texture pixel (0, 7): red of that pixel
    expect(gpu[0]).toBeCloseTo(rgba[(7 * w + 0) * 4]! / 255, 6);
  });

  it.each(RANGES)(
    'tensor -> texture clamps and rounds like the reference, range [%s]',
    async (range) => {
      const device = await testDevice();
      const [w, h] = [29, 17];
      const region = { x: 0, y: 0, width: w, height: h };
      const tensor = tensorValues(tensorElements(region), 23, range);
      const input = device.createBuffer({
        size: tensor.byteLength,
        usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST,
      });
      device.queue.writeBuffer(input, 0, tensor);
      const texture = makeTexture(device, w, h, new Uint8Array(w * h * 4));
      const gpu = await withValidation(device, async () => {
        const dispatch = prepareFromTensor(device, input, texture, { region, range });
        const encoder = device.createCommandEncoder();
        dispatch.encode(encoder);
        device.queue.submit([encoder.finish()]);
        const out = await readTextureRgba8(device, texture);
        dispatch.destroy();
        return out;
      });
      const ref = tensorToRgbaRef(tensor, region, w, h, range);
      expect(Array.from(gpu)).toEqual(Array.from(ref));
      input.destroy();
      texture.destroy();
    },
  );

  it('writes a tile at an offset and leaves the rest of the texture alone', async () => {
    const device = await testDevice();
    const [w, h] = [21, 15];
    const background = randomBytes(w * h * 4, 99);
    const region = { x: 13, y: -2, width: 10, height: 9 };
    const tensor = tensorValues(tensorElements(region), 7, '-1,1');
    const input = device.createBuffer({
      size: tensor.byteLength,
      usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST,
    });
    device.queue.writeBuffer(input, 0, tensor);
    const texture = makeTexture(device, w, h, background);
    const dispatch = prepareFromTensor(device, input, texture, { region, range: '-1,1' });
    const encoder = device.createCommandEncoder();
    dispatch.encode(encoder);
    device.queue.submit([encoder.finish()]);
    const gpu = await readTextureRgba8(device, texture);
    const ref = tensorToRgbaRef(tensor, region, w, h, '-1,1', background);
    expect(Array.from(gpu)).toEqual(Array.from(ref));
    dispatch.destroy();
    input.destroy();
    texture.destroy();
  });

  it('round trip texture -> tensor -> texture is lossless in every range', async () => {
    const device = await testDevice();
    const [w, h] = [33, 9];
    const rgba = randomBytes(w * h * 4, 3);
    for (let i = 3; i < rgba.length; i += 4) rgba[i] = 255;
    const region = { x: 0, y: 0, width: w, height: h };
    for (const range of RANGES) {
      const tensor = rgbaToTensorRef(rgba, w, h, region, range);
      for (let i = 0; i < tensor.length; i += 97) {
        const c = Math.floor(i / (w * h));
        const p = i % (w * h);
        expect(quantizeRef(tensor[i]!, range)).toBe(rgba[p * 4 + c]);
      }
      const texture = makeTexture(device, w, h, rgba);
      const buffer = device.createBuffer({
        size: tensor.byteLength,
        usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC,
      });
      const out = makeTexture(device, w, h, new Uint8Array(w * h * 4));
      const toT = prepareToTensor(device, texture, buffer, { region, range });
      const fromT = prepareFromTensor(device, buffer, out, { region, range });
      const encoder = device.createCommandEncoder();
      toT.encode(encoder);
      fromT.encode(encoder);
      device.queue.submit([encoder.finish()]);
      expect(Array.from(await readTextureRgba8(device, out))).toEqual(Array.from(rgba));
      for (const r of [toT, fromT]) r.destroy();
      for (const t of [texture, out]) t.destroy();
      buffer.destroy();
    }
  });
});
