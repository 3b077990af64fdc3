/**
 * For `npm run eval`: the decoded low-quality frames and the enhancer's output frames as RGB bytes
 * (base64), read through a 2D canvas exactly as the wasm enhancer reads its input. The enhancer is
 * the app's (same pack loading, same tiling); only encoding is left out, so the metrics judge the
 * model and not the H.264 encoder of the export.
 */
import type { FrameEnhancer } from '../engine/enhancer.ts';
import { openInput, VideoFrameSink } from '../media/index.ts';
import type { DecodedClip } from './types.ts';

function toBase64(bytes: Uint8Array): string {
  let text = '';
  const step = 0x8000;
  for (let i = 0; i < bytes.length; i += step) {
    text += String.fromCharCode(...bytes.subarray(i, i + step));
  }
  return btoa(text);
}

function rgbOf(source: VideoFrame, width: number, height: number): Uint8Array {
  const ctx = new OffscreenCanvas(width, height).getContext('2d', { willReadFrequently: true });
  if (!ctx) throw new Error('No 2D canvas.');
  ctx.drawImage(source, 0, 0, width, height);
  const rgba = ctx.getImageData(0, 0, width, height).data;
  const rgb = new Uint8Array(width * height * 3);
  for (let i = 0, j = 0; i < rgba.length; i += 4, j += 3) {
    rgb[j] = rgba[i]!;
    rgb[j + 1] = rgba[i + 1]!;
    rgb[j + 2] = rgba[i + 2]!;
  }
  return rgb;
}

/** Every frame of `clip`, through `enhancer` when given. */
export async function decodeClip(clip: Blob, enhancer: FrameEnhancer | null): Promise<DecodedClip> {
  // compared with RGB truth and RGB bicubic: the model's own pixels, before 4:2:0
  enhancer?.emitRgb();
  const input = await openInput(clip);
  const frames: string[] = [];
  let width = 0;
  let height = 0;
  let ms = 0;
  try {
    const sink = new VideoFrameSink(input);
    width = enhancer?.outputWidth ?? sink.track.width;
    height = enhancer?.outputHeight ?? sink.track.height;
    for await (const decoded of sink.frames()) {
      const frame = decoded.detach();
      decoded.close();
      try {
        if (enhancer) {
          const t0 = performance.now();
          const out = await enhancer.process(frame);
          ms += performance.now() - t0;
          try {
            frames.push(toBase64(rgbOf(out, width, height)));
          } finally {
            out.close();
          }
        } else {
          frames.push(toBase64(rgbOf(frame, width, height)));
        }
      } finally {
        frame.close();
      }
    }
  } finally {
    input.close();
  }
  return {
    width,
    height,
    frames,
    msPerFrame: frames.length ? ms / frames.length : 0,
    enhancer: enhancer?.name ?? null,
  };
}
