/** What the job does to each decoded frame before it is encoded, in the render and the preview. */
import type { FrameEnhancer } from '../engine/enhancer.ts';
import { Deinterlacer, mayHoldFields, type FieldOrder } from '../media/index.ts';
import type { PictureScan } from '../shared/deinterlace-rows.ts';
import type { WorkerEvent } from './protocol.ts';
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
 * How one frame of a job that deinterlaces (in the clip's order `clip`) is taken: in the order
 * the person named, whatever the stream says; else as its picture says (interlaced H.264 marks
 * each one: fields in their order, or a progressive frame, which passes unchanged unless the
 * person turned deinterlacing on for every frame), else in the clip's order. Null: the job does
 * not deinterlace.
 */
export function pictureFields(
  settings: JobSettings,
  clip: FieldOrder | null,
  picture: PictureScan | null,
): PictureScan | null {
  if (!clip) return null;
  const setting = settings.deinterlace;
  if (setting === 'top-first' || setting === 'bottom-first') return setting;
  if (picture === 'progressive') return setting === true ? clip : 'progressive';
  return picture ?? clip;
}

/**
 * The frame written for `frame`: deinterlaced first when there is a deinterlacer (the YUV one, or
 * the enhancer's own), taken as `fields` says (pictureFields), then enhanced when there is an
 * enhancer. A new frame, which the caller closes; `frame` stays the caller's.
 */
export async function outputFrame(
  frame: VideoFrame,
  deinterlacer: Deinterlacer | null,
  enhancer: FrameEnhancer | null,
  fields: PictureScan | null = null,
): Promise<VideoFrame> {
  // on for the job already: this only says how this picture is taken, keeping the frame before
  if (fields && enhancer) enhancer.setDeinterlace(fields);
  const progressive = deinterlacer ? await deinterlacer.process(frame, fields) : frame;
  if (!enhancer) return progressive === frame ? frame.clone() : progressive;
  try {
    return await enhancer.process(progressive);
  } finally {
    if (progressive !== frame) progressive.close();
  }
}

/** Sends the scrubber a frame as it was and as it came out, the original at the output size. */
export async function emitPreview(
  emit: (event: WorkerEvent, transfer?: Transferable[]) => void,
  jobId: number,
  frameIndex: number,
  before: VideoFrame,
  after: VideoFrame,
): Promise<void> {
  const [beforeScaled, afterBitmap] = await Promise.all([
    createImageBitmap(before, {
      resizeWidth: after.displayWidth,
      resizeHeight: after.displayHeight,
      resizeQuality: 'high',
    }),
    createImageBitmap(after),
  ]);
  emit(
    {
      kind: 'preview',
      jobId,
      frameIndex,
      timestampUs: before.timestamp,
      before: beforeScaled,
      after: afterBitmap,
    },
    [beforeScaled, afterBitmap],
  );
}
