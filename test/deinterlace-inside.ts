/**
 * The check that an enhancer deinterlaces inside (FrameInput's WGSL pass on WebGPU,
 * CpuFrameInput's CPU rule on wasm) exactly as the CPU rule does beforehand, for the browser
 * tests of each pipeline (run there so the page's compiled kernels are shared).
 */
import { expect } from 'vitest';
import type { EnhancerOptions } from '../src/engine/create-enhancer.ts';
import type { FrameEnhancer } from '../src/engine/enhancer.ts';
import { outputModeFor } from '../src/engine/frame-io.ts';
import { readbackCount } from '../src/gpu/readback.ts';
import {
  deinterlaceRgba,
  type FieldOrder,
  type PictureScan,
} from '../src/shared/deinterlace-rows.ts';
import { testGpu } from './gpu-device.ts';

const W = 24;
const H = 16;

/** Frame n of woven fields: a smooth picture with a bright bar moving 3 pixels a field. */
export function woven(n: number): Uint8Array<ArrayBuffer> {
  const rgba = new Uint8Array(W * H * 4);
  for (let y = 0; y < H; y++) {
    const t = 2 * n + (y % 2);
    for (let x = 0; x < W; x++) {
      const bar = x >= 2 + 3 * t && x < 6 + 3 * t && y > 1 && y < H - 2;
      rgba.set(
        bar ? [235, 225, 90, 255] : [50 + 4 * x, 70 + 5 * y, 140 - 2 * x + y, 255],
        (y * W + x) * 4,
      );
    }
  }
  return rgba;
}

function frameOf(rgba: Uint8Array<ArrayBuffer>, n: number): VideoFrame {
  return new VideoFrame(rgba, {
    format: 'RGBA',
    codedWidth: W,
    codedHeight: H,
    timestamp: n * 40_000,
  });
}

function pixels(frame: VideoFrame): Uint8ClampedArray {
  const ctx = new OffscreenCanvas(frame.displayWidth, frame.displayHeight).getContext('2d')!;
  ctx.drawImage(frame, 0, 0);
  return ctx.getImageData(0, 0, frame.displayWidth, frame.displayHeight).data;
}

async function enhance(enhancer: FrameEnhancer, rgba: Uint8Array<ArrayBuffer>, n: number) {
  const frame = frameOf(rgba, n);
  try {
    const out = await enhancer.process(frame);
    try {
      return pixels(out);
    } finally {
      out.close();
    }
  } finally {
    frame.close();
  }
}

function differing(a: Uint8ClampedArray, b: Uint8ClampedArray, over = 0): number {
  let n = 0;
  for (let i = 0; i < a.length; i++) if (Math.abs(a[i]! - b[i]!) > over) n++;
  return n;
}

type Make = (options: EnhancerOptions) => Promise<FrameEnhancer>;

/**
 * A woven clip enhanced with deinterlacing on gives, frame for frame, exactly what the same
 * pipeline gives for the clip deinterlaced beforehand by the CPU rule (with the frame before as
 * the previous frame), also as its pictures change on the way (a progressive one passes and is
 * still the next one's previous frame; the last comes in the other field order); on WebGPU
 * nothing more is read back and nothing allocated after the first frame; a frame passed to
 * `rememberFrame` is the previous frame of the next one; WebGPU and wasm agree within three
 * 8-bit levels.
 */
export async function expectDeinterlacingInside(
  make: Make,
  backends: readonly ('webgpu' | 'wasm')[],
  fields: FieldOrder,
): Promise<void> {
  const { device, info } = await testGpu();
  const clip = [woven(0), woven(1), woven(2), woven(3)];
  const other: FieldOrder = fields === 'top-first' ? 'bottom-first' : 'top-first';
  const pictures: PictureScan[] = [fields, fields, 'progressive', other];
  // what the CPU rule makes of the clip, frame by frame with the frame before
  const progressive = clip.map((rgba, n) => {
    if (pictures[n] === 'progressive') return rgba;
    const out = new Uint8Array(W * H * 4);
    deinterlaceRgba(rgba, n > 0 ? clip[n - 1]! : null, out, W, H, pictures[n] === 'bottom-first');
    return out;
  });
  const results: Record<string, Uint8ClampedArray[]> = {};
  for (const backend of backends) {
    const enhancer = await make({
      backend,
      width: W,
      height: H,
      ...(backend === 'webgpu' ? { device, outputMode: outputModeFor(info) } : {}),
    });
    enhancer.setDeinterlace(fields);
    const before = readbackCount();
    const inside = [];
    for (const [n, rgba] of clip.entries()) {
      enhancer.setDeinterlace(pictures[n]!); // as the job says each picture (frame-steps.ts)
      inside.push(await enhance(enhancer, rgba, n));
    }
    if (backend === 'webgpu') {
      expect(readbackCount() - before).toBe(outputModeFor(info) === 'canvas' ? 0 : clip.length);
      expect(enhancer.stats().allocationsAfterFirstFrame).toBe(0);
    }
    // off again (which forgets the previous frame): the clip deinterlaced beforehand
    enhancer.setDeinterlace(null);
    enhancer.reset();
    const outside = [];
    for (const [n, rgba] of progressive.entries()) outside.push(await enhance(enhancer, rgba, n));
    for (const [n, frame] of inside.entries()) expect(differing(frame, outside[n]!)).toBe(0);
    // and the woven frame, not deinterlaced, comes out differently (the step did something)
    enhancer.reset();
    const plain = await enhance(enhancer, clip[0]!, 0);
    expect(differing(plain, inside[0]!)).toBeGreaterThan(plain.length / 50);

    // a frame remembered, not enhanced, is the previous frame of the next one
    enhancer.setDeinterlace(fields);
    enhancer.reset();
    const previous = frameOf(clip[0]!, 0);
    await enhancer.rememberFrame(previous);
    previous.close();
    const remembered = await enhance(enhancer, clip[1]!, 1);
    enhancer.setDeinterlace(null);
    enhancer.reset();
    expect(differing(remembered, await enhance(enhancer, progressive[1]!, 1))).toBe(0);
    results[backend] = inside;
    await enhancer.close();
  }
  // the two backends agree as their plain pipelines do
  const [gpu, cpu] = [results['webgpu'], results['wasm']];
  if (gpu && cpu)
    for (const [n, frame] of gpu.entries()) expect(differing(frame, cpu[n]!, 3)).toBe(0);
}
