/** What the job does to each decoded frame before it is encoded, in the render and the preview. */
import type { FrameEnhancer } from '../engine/enhancer.ts';
import { Deinterlacer, mayHoldFields, type FieldOrder } from '../media/index.ts';
import type { JobSettings } from './settings.ts';

/**
 * Whether the job deinterlaces, by keeping which field: by default (null) when the video may hold
 * fields (interlaced H.264), always when true or a field order, never (null) when false. The
 * field kept is the one that comes first: the one the setting names, else the bottom one when
 * the stream says so, else the top one.
 */
export function deinterlaces(
  settings: JobSettings,
  input: {
    readonly warnings: readonly string[];
    readonly video: { readonly fieldOrder?: FieldOrder } | null;
  },
): FieldOrder | null {
  const setting = settings.deinterlace ?? mayHoldFields(input);
  if (setting === false) return null;
  if (setting !== true) return setting;
  return input.video?.fieldOrder ?? 'top-first';
}

/**
 * Sets up the job's deinterlacing. With an enhancer it deinterlaces each frame itself, on its
 * own backend before the model (on the GPU path the frame never comes back to the CPU for it):
 * it is told so, and there is no separate deinterlacer. Without one (a plain transcode), the
 * decoded frames go through the CPU deinterlacer, which works on their YUV planes.
 */
export function deinterlacerFor(
  fields: FieldOrder | null,
  enhancer: FrameEnhancer | null,
): Deinterlacer | null {
  enhancer?.setDeinterlace(fields);
  return fields && !enhancer ? new Deinterlacer(fields) : null;
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
