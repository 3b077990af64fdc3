/** What the job does to each decoded frame before it is encoded, in the render and the preview. */
import type { FrameEnhancer } from '../engine/enhancer.ts';
import { Deinterlacer, mayHoldFields } from '../media/index.ts';
import type { JobSettings } from './settings.ts';

/**
 * A deinterlacer for the job when its settings ask for one: by default (null) when the video
 * may hold fields (interlaced H.264), always when true, never when false.
 */
export function deinterlacerFor(
  settings: JobSettings,
  input: { readonly warnings: readonly string[] },
): Deinterlacer | null {
  return (settings.deinterlace ?? mayHoldFields(input)) ? new Deinterlacer() : null;
}

/**
 * The frame written for `frame`: deinterlaced first when there is a deinterlacer, then enhanced
 * when there is an enhancer. A new frame, which the caller closes; `frame` stays the caller's.
 */
export async function outputFrame(
  frame: VideoFrame,
  deinterlacer: Deinterlacer | null,
  enhancer: FrameEnhancer | null,
): Promise<VideoFrame> {
  const progressive = deinterlacer ? await deinterlacer.process(frame) : frame;
  if (!enhancer) return progressive === frame ? frame.clone() : progressive;
  try {
    return await enhancer.process(progressive);
  } finally {
    if (progressive !== frame) progressive.close();
  }
}
