/**
 * Where a job writes, and the join of a render's parts into the person's file with the clip's
 * subtitles (the parts hold none: they are read from the clip here).
 */
import {
  assembleParts,
  FileStreamTarget,
  MemoryTarget,
  OpfsTarget,
  rangeSubtitles,
  subtitlesLeftOut,
  type AssembleResult,
  type OutputTarget,
} from '../media/index.ts';
import { UpframeError } from '../shared/errors.ts';
import type { JobOutput } from './protocol.ts';
import { partFile, type RenderState } from './render-store.ts';

export async function targetFor(output: JobOutput): Promise<OutputTarget> {
  switch (output.type) {
    case 'memory':
      return new MemoryTarget();
    case 'handle':
      return new FileStreamTarget(await output.handle.createWritable());
    case 'opfs': {
      const root = await self.navigator.storage.getDirectory();
      return new OpfsTarget(await root.getFileHandle(output.name, { create: true }));
    }
  }
}

/**
 * Joins the kept parts of a render into `output`. `file`: its clip, for the subtitles, or null
 * (a save from a page without it: a note says they were left out). `complete`: the render ran to
 * its end (see AssembleOptions).
 */
export async function assemble(
  state: RenderState,
  file: File | null,
  output: JobOutput,
  complete: boolean,
  signal?: AbortSignal,
  onProgress?: (framesDone: number, framesTotal: number) => void,
): Promise<AssembleResult> {
  const j = state.journal;
  const slices = [];
  for (const [i, part] of j.parts.entries()) {
    const extent = state.extents[i]!;
    if (extent.frames === 0) continue;
    const file = await partFile(j.id, part.name);
    slices.push({ blob: file.slice(0, extent.bytes), frames: extent.frames });
  }
  if (slices.length === 0) {
    throw new UpframeError('CORRUPT_INPUT', 'That earlier render kept no frames to save.');
  }
  // the page chose MP4 or WebM for this render (the person left them out, or the clip is
  // rotated, which MKV cannot store; the settings said so): they are not read
  const container = j.settings?.container ?? null;
  const wanted = container === null || container === 'mkv';
  const subtitles = file && wanted ? await rangeSubtitles(file, j.range) : null;
  const result = await assembleParts(slices, await targetFor(output), {
    container,
    complete,
    ...(subtitles ? { subtitles: subtitles.copies } : {}),
    ...(signal ? { signal } : {}),
    ...(onProgress ? { onProgress } : {}),
  });
  const lost = j.subtitleTracks ?? 0;
  const note =
    lost === 0
      ? null
      : !wanted
        ? subtitlesLeftOut(lost)
        : (subtitles?.note ??
          (!file
            ? subtitlesLeftOut(
                lost,
                'they are read from the clip, which the page did not have open. ' +
                  'Open the clip, then save again to keep them',
              )
            : null));
  return note ? { ...result, warnings: [...result.warnings, note] } : result;
}
