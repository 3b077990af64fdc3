/** `npm run bench -- --only deinterlace`: what each deinterlacer costs per frame. */
import { FrameInput } from '../engine/frame-io.ts';
import { sharedGpu } from '../gpu/device.ts';
import { Deinterlacer } from '../media/index.ts';
import { deinterlaceRgba } from '../shared/deinterlace-rows.ts';
import type { DeinterlaceCaseResult } from './types.ts';

const median = (values: readonly number[]) =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

/** Frame n of a moving pattern whose two fields differ (a 3-level step between the rows). */
function i420Frame(width: number, height: number, n: number, bytes: Uint8Array<ArrayBuffer>) {
  for (let i = 0; i < width * height; i++) {
    const y = Math.floor(i / width);
    bytes[i] = ((i % width) + 5 * n + (y % 2) * 3) & 255;
  }
  return new VideoFrame(bytes, {
    format: 'I420',
    codedWidth: width,
    codedHeight: height,
    timestamp: n * 40_000,
  });
}

/** ms of `step` on frames 1..frames (frame 0 has no previous frame, and allocates). */
async function timeFrames(
  width: number,
  height: number,
  frames: number,
  step: (frame: VideoFrame) => Promise<void>,
): Promise<number[]> {
  const bytes = new Uint8Array((width * height * 3) / 2);
  const times: number[] = [];
  for (let n = 0; n <= frames; n++) {
    const frame = i420Frame(width, height, n, bytes);
    try {
      const started = performance.now();
      await step(frame);
      if (n > 0) times.push(performance.now() - started);
    } finally {
      frame.close();
    }
  }
  return times;
}

export async function deinterlaceCase(
  width: number,
  height: number,
  frames: number,
): Promise<DeinterlaceCaseResult> {
  const deinterlacer = new Deinterlacer();
  const times = await timeFrames(width, height, frames, async (frame) => {
    (await deinterlacer.process(frame)).close();
  });

  const rgba = [0, 1].map(() => new Uint8Array(width * height * 4));
  const out = new Uint8Array(width * height * 4);
  for (let i = 0; i < rgba[0]!.length; i++) {
    rgba[0]![i] = (i * 7 + ((i / (width * 4)) & 1) * 40) & 255;
    rgba[1]![i] = (i * 7 + 9 + ((i / (width * 4)) & 1) * 40) & 255;
  }
  const rgbaTimes: number[] = [];
  for (let n = 0; n < frames; n++) {
    const started = performance.now();
    deinterlaceRgba(rgba[n % 2]!, rgba[(n + 1) % 2]!, out, width, height);
    rgbaTimes.push(performance.now() - started);
  }

  let gpu: DeinterlaceCaseResult['gpu'] = null;
  // without an adapter the GPU figures are left out, not the case
  const acquired = navigator.gpu ? await sharedGpu(navigator.gpu).catch(() => null) : null;
  if (acquired) {
    const { device, info } = acquired;
    const input = new FrameInput(device, width, height);
    try {
      const upload = async (frame: VideoFrame) => {
        await input.upload(frame);
        await device.queue.onSubmittedWorkDone();
      };
      const plain = await timeFrames(width, height, frames, upload);
      input.setDeinterlace('top-first');
      const deinterlaced = await timeFrames(width, height, frames, upload);
      gpu = {
        adapter: `${info.vendor} ${info.architecture}`.trim() || 'unknown',
        uploadMs: median(plain),
        deinterlacedUploadMs: median(deinterlaced),
      };
    } finally {
      input.destroy();
    }
  }
  return {
    width,
    height,
    frames,
    msPerFrame: median(times),
    msPerFrameRuns: times,
    rgbaMsPerFrame: median(rgbaTimes),
    gpu,
  };
}
