/**
 * One clip's index, read once. Opening a file reads its index: for MP4 the moov, for Matroska
 * every cluster's block headers (the whole file: seconds for a two-hour film, each time). The job
 * worker opened the clip again for every preview and three times for a render; it now leases
 * the last clip it opened, kept open while it is the clip in use, and closed when another clip
 * is opened and its last lease is given back.
 *
 * A File sent to a worker arrives as a new object each time, so a file is known by its name,
 * size and modification time, and its first and last bytes are compared too (two cameras' cards
 * both have a C0001.MP4); another Blob by itself. Readers are read-only after opening, so leases
 * may overlap.
 */
import type { MediaInput } from './input-types.ts';
import { openInput } from './input.ts';

interface Entry {
  readonly key: string | Blob;
  /** The file's first and last bytes, compared before a File is taken for the same one. */
  readonly ends: Uint8Array | null;
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

const END_BYTES = 4096;

async function endsOf(blob: Blob): Promise<Uint8Array> {
  const head = blob.slice(0, END_BYTES);
  const tail = blob.slice(Math.max(END_BYTES, blob.size - END_BYTES));
  return new Uint8Array(await new Blob([head, tail]).arrayBuffer());
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
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
  // (a file that cannot be read is opened again, for openInput to say so)
  const ends = typeof key === 'string' ? await endsOf(blob).catch(() => null) : null;
  const same =
    last !== null &&
    last.key === key &&
    (typeof key !== 'string' ||
      (ends !== null && last.ends !== null && sameBytes(ends, last.ends)));
  if (!same) {
    if (last) {
      last.stale = true;
      closeWhenFree(last);
    }
    last = {
      key,
      ends,
      input: openInput(blob),
      leases: 0,
      stale: false,
    };
  }
  const entry = last!;
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
