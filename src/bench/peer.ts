/**
 * The side-by-side peer: UpscalerJS 1.0 with the same ESRGAN weights our default pack was converted
 * from, on the same decoded frames, in the same page. Its model files and TF.js's wasm binaries are
 * served from this origin (the driver mounts the installed packages), so nothing reaches a CDN.
 */
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import Upscaler from 'upscaler';
import esrganMediumX4 from '@upscalerjs/esrgan-medium/4x';
import { openInput, VideoFrameSink } from '../media/index.ts';
import type { FrameEnhancer } from '../engine/enhancer.ts';
import type { PeerCaseResult } from './types.ts';

export type PeerBackend = 'wasm' | 'webgl' | 'cpu';

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? NaN;
}

/** RGBA pixels of a frame as a 2D canvas sees it (what the wasm enhancer reads too). */
function framePixels(frame: VideoFrame | OffscreenCanvas, width: number, height: number) {
  const ctx = new OffscreenCanvas(width, height).getContext('2d', { willReadFrequently: true });
  if (!ctx) throw new Error('No 2D canvas.');
  ctx.drawImage(frame, 0, 0, width, height);
  return ctx.getImageData(0, 0, width, height).data;
}

export async function usePeerBackend(backend: PeerBackend, wasmBase: string): Promise<string> {
  if (backend === 'wasm') {
    setWasmPaths(wasmBase);
    // TF.js's threaded wasm starts its pthread workers from the script that loaded it, which a
    // bundled page does not have as a classic script: the workers fail and the backend hangs. Its
    // single-threaded SIMD build is what works from a bundle (stated next to the figures).
    tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
  }
  await tf.setBackend(backend);
  await tf.ready();
  // TF.js falls back to another backend without an error; the table must say what really ran
  return tf.getBackend();
}

export async function peerCase(options: {
  clip: Blob;
  frames: number;
  ours: FrameEnhancer;
  peerBackend: PeerBackend;
  modelUrl: string;
  wasmBase: string;
}): Promise<PeerCaseResult> {
  const { ours } = options;
  const peerBackend = await usePeerBackend(options.peerBackend, options.wasmBase);
  const upscaler = new Upscaler({ model: { ...esrganMediumX4, path: options.modelUrl } });
  await upscaler.getModel();
  const input = await openInput(options.clip);
  const sink = new VideoFrameSink(input);
  const { width, height } = sink.track;
  const outW = ours.outputWidth;
  const outH = ours.outputHeight;
  const oursMs: number[] = [];
  const peerMs: number[] = [];
  let maxDiff = 0;
  let differing = 0;
  let sumDiff = 0;
  let samples = 0;
  // the peer's output is RGB: compare the model's own pixels, before 4:2:0
  ours.emitRgb();
  try {
    // one untimed frame each: shader compilation and wasm/ORT warm-up are not per-frame costs
    let warm = true;
    const range = { start: 0, end: options.frames + 1 };
    for await (const decoded of sink.frames({ range })) {
      const frame = decoded.detach();
      decoded.close();
      try {
        const rgba = framePixels(frame, width, height);
        let t0 = performance.now();
        const oursFrame = await ours.process(frame);
        const oursPixels = framePixels(oursFrame, outW, outH);
        oursFrame.close();
        const oursTime = performance.now() - t0;
        const rgb = new Int32Array(width * height * 3);
        for (let i = 0, j = 0; i < rgba.length; i += 4, j += 3) {
          rgb[j] = rgba[i]!;
          rgb[j + 1] = rgba[i + 1]!;
          rgb[j + 2] = rgba[i + 2]!;
        }
        t0 = performance.now();
        const inputTensor = tf.tensor3d(rgb, [height, width, 3], 'int32');
        const outTensor = await upscaler.execute(inputTensor, { output: 'tensor' });
        const peerPixels = await outTensor.data();
        outTensor.dispose();
        const peerTime = performance.now() - t0;
        if (warm) {
          warm = false;
          continue;
        }
        oursMs.push(oursTime);
        peerMs.push(peerTime);
        for (let p = 0, q = 0; p < outW * outH; p++, q += 3) {
          for (let c = 0; c < 3; c++) {
            const d = Math.abs(oursPixels[p * 4 + c]! - Math.round(peerPixels[q + c]!));
            maxDiff = Math.max(maxDiff, d);
            if (d > 0) differing++;
            sumDiff += d;
            samples++;
          }
        }
      } finally {
        frame.close();
      }
    }
  } finally {
    input.close();
    await upscaler.dispose();
  }
  return {
    width,
    height,
    frames: oursMs.length,
    oursBackend: ours.backend,
    peerBackend,
    oursMsPerFrame: oursMs,
    peerMsPerFrame: peerMs,
    oursFps: 1000 / median(oursMs),
    peerFps: 1000 / median(peerMs),
    maxPixelDiff: maxDiff,
    differingFraction: samples ? differing / samples : 0,
    meanAbsDiff: samples ? sumDiff / samples : 0,
  };
}
