/**
 * One clip's index, read once. Opening a file reads its index: for MP4 the moov, for Matroska
 * every cluster's block headers (the whole file: seconds for a two-hour film, each time). The job
 * worker opened the clip again for every preview and three times for a render; it now leases
 * the last clip it opened, kept open while it is the clip in use, and closed when another clip
 * is opened and its last lease is given back.
 *
 * A File sent to a worker arrives as a new object each time, so a file is known by its name,
 * size and modification time (what the browser's own File identity rests on); another Blob by
 * itself. Readers are read-only after opening, so leases may overlap.
 */
import type { MediaInput } from './input-types.ts';
import { openInput } from './input.ts';

interface Entry {
  readonly key: string | Blob;
  readonly input: Promise<MediaInput>;
  leases: number;
  /** Another clip has been opened since: close once no lease is left. */
  stale: boolean;
}

let last: Entry | null = null;

function keyOf(blob: Blob): string | Blob {
  return typeof File !== 'undefined' && blob instanceof File
    ? `${blob.name}\u0000${blob.size}\u0000${blob.lastModified}`
    : blob;
}

function closeWhenFree(entry: Entry): void {
  if (entry.stale && entry.leases === 0)
    void entry.input.then(
      (i) => i.close(),
      () => undefined,
    );
}

export interface InputLease {
  readonly input: MediaInput;
  /** Gives the input back (once; later calls do nothing). */
  release(): void;
}

/** The opened clip, from the last opening when it is the same file. Errors as `openInput`'s. */
export async function leaseInput(blob: Blob): Promise<InputLease> {
  const key = keyOf(blob);
  if (!last || last.key !== key) {
    if (last) {
      last.stale = true;
      closeWhenFree(last);
    }
    last = { key, input: openInput(blob), leases: 0, stale: false };
  }
  const entry = last;
  entry.leases++;
  let input: MediaInput;
  try {
    input = await entry.input;
  } catch (err) {
    // a file that could not be opened is not kept: the next attempt reads it again
    entry.leases--;
    if (last === entry) last = null;
    throw err;
  }
  let released = false;
  return {
    input,
    release() {
      if (released) return;
      released = true;
      entry.leases--;
      closeWhenFree(entry);
    },
  };
}

/** Closes the kept clip once it is free (the worker is told the clip is gone, or in tests). */
export function forgetInputs(): void {
  if (!last) return;
  last.stale = true;
  closeWhenFree(last);
  last = null;
}
