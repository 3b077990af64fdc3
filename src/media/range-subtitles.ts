/** The subtitles of a render's frame range, read from its source for the join of its parts. */
import { leaseInput } from './input-cache.ts';
import { rangeWindow, unreadableSubtitles, type SubtitleCopy } from './subtitle-text.ts';
import { VideoFrameSink } from './video-frame-sink.ts';

/**
 * Each text subtitle track's lines for frames `[start, end)` of `file`, in the render's time,
 * and a note when the file's subtitles could not be read (the render is kept without them).
 */
export async function rangeSubtitles(
  file: Blob,
  range: { readonly start: number; readonly end: number },
): Promise<{ copies: SubtitleCopy[]; note: string | null }> {
  let lease;
  try {
    lease = await leaseInput(file);
  } catch (err) {
    return { copies: [], note: unreadableSubtitles(err) };
  }
  try {
    const input = lease.input;
    if (input.subtitleTracks.length === 0 || !input.video) return { copies: [], note: null };
    const timing = new VideoFrameSink(input).timing;
    const window = rangeWindow(timing, range.start, range.end);
    return { copies: await input.readSubtitles(window), note: null };
  } catch (err) {
    return { copies: [], note: unreadableSubtitles(err) };
  } finally {
    lease.release();
  }
}
