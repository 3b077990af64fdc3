/**
 * The `sr` engine in real Chromium on the converted built-in packs (run `npm run build` or
 * `npx tsx models/esrgan/convert.ts` first; the Vite test server serves models/packs/).
 */
import { describe, expect, it } from 'vitest';
import { testDevice, testGpu } from '../../test/gpu-device.ts';
import { expectDeinterlacingInside } from '../../test/deinterlace-inside.ts';
import { readbackCount, readFloat32 } from '../gpu/readback.ts';
import { mulberry32, randomBytes, randomFloats } from '../shared/random.ts';
import { createSrEnhancer } from './create-enhancer.ts';
import { outputModeFor } from './sr-gpu.ts';
import { Session, cpuTensor, gpuTensor, tensorData } from './ort.ts';
import { loadPack, packFile, type LoadedPack } from './packs.ts';

const PACKS = '/models/packs/';

async function pack(name: string): Promise<LoadedPack> {
  return loadPack({ type: 'url', url: `${PACKS}${name}/` });
}

async function defaultPackName(): Promise<string> {
  const index = (await (await fetch(`${PACKS}index.json`)).json()) as {
    packs: { name: string; kind: string; scale: number; default: boolean }[];
  };
  // the default `sr` pack (the x4 default is Upframe-lite, a `lite` pack)
  const found = index.packs.find((p) => p.default && p.kind === 'sr');
  if (!found) throw new Error('models/packs/index.json names no default pack');
  return found.name;
}

/** A smooth random picture (so the model sees image-like input, not white noise). */
function testFrame(width: number, height: number, seed: number, timestamp = 0): VideoFrame {
  const coarse = randomBytes(((width >> 2) + 2) * ((height >> 2) + 2) * 4, seed);
  const rgba = new Uint8Array(width * height * 4);
  const cw = (width >> 2) + 2;
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++)
      for (let c = 0; c < 4; c++) {
        const gx = x / 4;
        const gy = y / 4;
        const x0 = Math.floor(gx);
        const y0 = Math.floor(gy);
        const fx = gx - x0;
        const fy = gy - y0;
        const at = (xx: number, yy: number) => coarse[(yy * cw + xx) * 4 + c]!;
        const v =
          at(x0, y0) * (1 - fx) * (1 - fy) +
          at(x0 + 1, y0) * fx * (1 - fy) +
          at(x0, y0 + 1) * (1 - fx) * fy +
          at(x0 + 1, y0 + 1) * fx * fy;
        rgba[(y * width + x) * 4 + c] = c === 3 ? 255 : Math.round(v);
      }
  return new VideoFrame(rgba, {
    format: 'RGBA',
    codedWidth: width,
    codedHeight: height,
    timestamp,
  });
}

function framePixels(frame: VideoFrame): Uint8ClampedArray {
  const canvas = new OffscreenCanvas(frame.displayWidth, frame.displayHeight);
  const ctx = canvas.getContext('2d');
  if (!ctx) throw new Error('no 2d context');
  ctx.drawImage(frame, 0, 0);
  return ctx.getImageData(0, 0, canvas.width, canvas.height).data;
}

describe('sr engine (browser)', () => {
  it('the default pack gives the same float output on WebGPU and on wasm (32x32)', async () => {
    const loaded = await pack(await defaultPackName());
    // ORT keeps the first device it ran on: every session in a page shares one device
    const device = await testDevice();
    const model = packFile(loaded);
    const scale = loaded.manifest.scale;
    const input = randomFloats(3 * 32 * 32, 5, 0, 255);
    const wasm = await Session.create(model, { backend: 'wasm', name: 'wasm' });
    const cpuOut = tensorData(
      (await wasm.run({ input: cpuTensor(input, [1, 3, 32, 32]) }))['output']!,
    );
    const gpu = await Session.create(model, { backend: 'webgpu', device, name: 'gpu' });
    const inBuf = device.createBuffer({
      size: input.byteLength,
      usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC,
    });
    device.queue.writeBuffer(inBuf, 0, input);
    const outCount = 3 * 32 * scale * 32 * scale;
    const outBuf = device.createBuffer({
      size: outCount * 4,
      usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC,
    });
    await gpu.run(
      { input: gpuTensor(inBuf, [1, 3, 32, 32]) },
      { output: gpuTensor(outBuf, [1, 3, 32 * scale, 32 * scale]) },
    );
    const gpuOut = await readFloat32(device, outBuf, outCount);
    expect(cpuOut.length).toBe(outCount);
    let max = 0;
    for (let i = 0; i < outCount; i++) max = Math.max(max, Math.abs(gpuOut[i]! - cpuOut[i]!));
    expect(max).toBeLessThan(1e-3 * 255);
    // and the model did something: the output is not a constant
    const mean = cpuOut.reduce((a, b) => a + b, 0) / outCount;
    expect(cpuOut.some((v) => Math.abs(v - mean) > 10)).toBe(true);
    await wasm.release();
    await gpu.release();
  });

  it('the WebGPU frame path reads back at most the finished frame and allocates nothing after the first frame', async () => {
    const loaded = await pack('esrgan-slim-x2');
    // ORT keeps the first device it ran on: every session in a page shares one device
    const { device, info } = await testGpu();
    // zero-copy canvas output on real GPUs; one counted readback of the output on SwiftShader
    const mode = outputModeFor(info);
    const enhancer = await createSrEnhancer(loaded, {
      backend: 'webgpu',
      device,
      width: 24,
      height: 20,
      outputMode: mode,
    });
    const before = readbackCount();
    const outputs: Uint8ClampedArray[] = [];
    for (let i = 0; i < 3; i++) {
      const frame = testFrame(24, 20, 40 + i, i * 40_000);
      const out = await enhancer.process(frame);
      expect(out.timestamp).toBe(i * 40_000);
      expect([out.displayWidth, out.displayHeight]).toEqual([48, 40]);
      frame.close();
      outputs.push(framePixels(out));
      out.close();
    }
    const perFrame = mode === 'canvas' ? 0 : 1;
    expect(readbackCount() - before).toBe(3 * perFrame);
    const stats = enhancer.stats();
    expect(stats.frames).toBe(3);
    expect(stats.readbacks).toBe(3 * perFrame);
    expect(stats.allocationsAfterFirstFrame).toBe(0);
    // different inputs give different outputs (the frames are really processed)
    expect(outputs[0]!.some((v, i) => v !== outputs[1]![i])).toBe(true);

    // the wasm pipeline on the same frame agrees within one 8-bit level almost everywhere
    const cpu = await createSrEnhancer(loaded, { backend: 'wasm', width: 24, height: 20 });
    const frame = testFrame(24, 20, 42, 80_000);
    const cpuOut = await cpu.process(frame);
    const cpuPixels = framePixels(cpuOut);
    frame.close();
    cpuOut.close();
    let over1 = 0;
    for (let i = 0; i < cpuPixels.length; i++)
      if (Math.abs(cpuPixels[i]! - outputs[2]![i]!) > 1) over1++;
    expect(over1).toBe(0);
    await enhancer.close();
    await cpu.close();
  });

  it('temporal fusion: WebGPU matches wasm frame by frame, frame 0 passes through, later frames are fused', async () => {
    const loaded = await pack('esrgan-slim-x2');
    const { device, info } = await testGpu();
    const [w, h] = [24, 20];
    // a smooth picture: the fusion is loose on flat areas and strict on detail
    const base = new Uint8Array(w * h * 4);
    for (let i = 0; i < w * h; i++)
      base.set([60 + 3 * (i % w), 80 + 4 * Math.floor(i / w), 120, 255], i * 4);
    /** The same picture with fresh noise each frame (a still, noisy shot). */
    const noisy = (n: number): VideoFrame => {
      const rand = mulberry32(100 + n);
      const rgba = new Uint8Array(base.length);
      for (let i = 0; i < base.length; i++)
        rgba[i] = i % 4 === 3 ? 255 : Math.round(base[i]! + 12 * (rand() - 0.5));
      return new VideoFrame(rgba, {
        format: 'RGBA',
        codedWidth: w,
        codedHeight: h,
        timestamp: n * 40_000,
      });
    };
    const run = async (backend: 'webgpu' | 'wasm', temporal: boolean) => {
      const enhancer = await createSrEnhancer(loaded, {
        backend,
        ...(backend === 'webgpu' ? { device, outputMode: outputModeFor(info) } : {}),
        width: w,
        height: h,
        temporal,
      });
      const outputs: Uint8ClampedArray[] = [];
      for (let n = 0; n < 3; n++) {
        const frame = noisy(n);
        const out = await enhancer.process(frame);
        frame.close();
        outputs.push(framePixels(out));
        out.close();
      }
      const stats = enhancer.stats();
      await enhancer.close();
      return { outputs, stats };
    };
    const gpu = await run('webgpu', true);
    const cpu = await run('wasm', true);
    const plain = await run('webgpu', false);
    expect(gpu.stats.allocationsAfterFirstFrame).toBe(0);
    const differing = (a: Uint8ClampedArray, b: Uint8ClampedArray, over: number) =>
      a.reduce((count, v, i) => count + (Math.abs(v - b[i]!) > over ? 1 : 0), 0);
    for (let n = 0; n < 3; n++) {
      // the GPU flow is f32 and its CPU reference f64: a rare pixel may differ by two levels
      expect(differing(gpu.outputs[n]!, cpu.outputs[n]!, 1)).toBeLessThanOrEqual(
        gpu.outputs[n]!.length / 200,
      );
      expect(differing(gpu.outputs[n]!, cpu.outputs[n]!, 3)).toBe(0);
    }
    // frame 0 is its own reference: exactly the unfused output
    expect(differing(gpu.outputs[0]!, plain.outputs[0]!, 0)).toBe(0);
    // later frames are blended with the previous ones: the noise is partly averaged away, so the
    // output is closer to what the model makes of the clean picture
    const clean = await createSrEnhancer(loaded, { backend: 'wasm', width: w, height: h });
    const cleanFrame = new VideoFrame(base, {
      format: 'RGBA',
      codedWidth: w,
      codedHeight: h,
      timestamp: 0,
    });
    const cleanOut = await clean.process(cleanFrame);
    const reference = framePixels(cleanOut);
    cleanFrame.close();
    cleanOut.close();
    await clean.close();
    const error = (a: Uint8ClampedArray) =>
      a.reduce((sum, v, i) => sum + (v - reference[i]!) ** 2, 0);
    expect(error(gpu.outputs[2]!)).toBeLessThan(0.8 * error(plain.outputs[2]!));
  });

  it('tiled output matches untiled away from the border, with no step at the seams', async () => {
    const loaded = await pack('esrgan-slim-x2');
    const w = 40;
    const h = 36;
    const run = async (tileSize: number) => {
      const enhancer = await createSrEnhancer(loaded, {
        backend: 'wasm',
        width: w,
        height: h,
        tileSize,
      });
      const frame = testFrame(w, h, 7);
      const out = await enhancer.process(frame);
      const px = framePixels(out);
      frame.close();
      out.close();
      await enhancer.close();
      return px;
    };
    const whole = await run(64);
    const tiled = await run(24); // 2 x 2 tiles, overlapping by 8..12 input pixels
    const W = w * 2;
    const diff = (x: number, y: number, c: number) =>
      tiled[(y * W + x) * 4 + c]! - whole[(y * W + x) * 4 + c]!;
    let maxDiff = 0;
    let meanDiff = 0;
    let n = 0;
    for (let y = 0; y < h * 2; y++)
      for (let x = 0; x < W; x++)
        for (let c = 0; c < 3; c++) {
          const d = Math.abs(diff(x, y, c));
          maxDiff = Math.max(maxDiff, d);
          meanDiff += d;
          n++;
        }
    meanDiff /= n;
    // tiles see less context than the whole frame, so they differ a little, never a lot
    expect(meanDiff).toBeLessThan(1.0);
    expect(maxDiff).toBeLessThanOrEqual(12);
    // no step: across the vertical seam band the difference changes as gently as it does elsewhere
    let worstJump = 0;
    for (let y = 0; y < h * 2; y++)
      for (let x = 1; x < W; x++)
        for (let c = 0; c < 3; c++)
          worstJump = Math.max(worstJump, Math.abs(diff(x, y, c) - diff(x - 1, y, c)));
    expect(worstJump).toBeLessThanOrEqual(6);
    // and tiling really happened: the outputs are not identical
    expect(maxDiff).toBeGreaterThan(0);
  });

  it('deinterlaces inside, on WebGPU and wasm alike, as the CPU rule does beforehand (temporal fusion on, bottom field first)', async () => {
    const loaded = await pack('esrgan-slim-x2');
    await expectDeinterlacingInside(
      (options) => createSrEnhancer(loaded, { ...options, temporal: true }),
      ['webgpu', 'wasm'],
      'bottom-first',
    );
  });
});
