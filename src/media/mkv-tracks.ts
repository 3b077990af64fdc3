/**
 * The kinds of track a Matroska/WebM file declares. mediabunny 1.61 lists only its video and
 * audio tracks, so a film's subtitle tracks were left out of the enhanced file without a word.
 * This reads the Tracks element (RFC 9559 section 5.1.4) by itself: one element header per
 * top-level element before it, then Tracks whole. Muxers write Tracks before the first cluster;
 * a file that puts it later (or has none) is read as declaring nothing more.
 */
import type { LeftOutTracks } from './codecs.ts';
import { readHeader, type ElementHeader } from './mkv-salvage.ts';

const EBML_HEADER = 0x1a45dfa3;
const SEGMENT = 0x18538067;
const CLUSTER = 0x1f43b675;
const TRACKS = 0x1654ae6b;
const TRACK_ENTRY = 0xae;
const TRACK_TYPE = 0x83;

/** Matroska TrackType values. */
const VIDEO = 1;
const AUDIO = 2;
const SUBTITLE = 0x11;

/** Past this, Tracks is not read: a real one is a few kilobytes. */
const TRACKS_MAX = 1 << 20;
/** Top-level elements looked at before giving up on finding Tracks. */
const ELEMENTS_MAX = 32;

async function headerAt(blob: Blob, at: number): Promise<ElementHeader | null> {
  const bytes = new Uint8Array(await blob.slice(at, at + 12).arrayBuffer());
  return readHeader(bytes, 0, at);
}

/** The children of an element whose data is `bytes[from, to)`. */
function* children(bytes: Uint8Array, from: number, to: number): Generator<ElementHeader> {
  let at = from;
  while (at < to) {
    const h = readHeader(bytes, at, 0);
    if (!h || h.size === null || h.dataAt + h.size > to) return;
    yield h;
    at = h.dataAt + h.size;
  }
}

/** The TrackType of each TrackEntry in Tracks' data (entries without one are left out). */
export function trackTypesIn(tracks: Uint8Array): number[] {
  const types: number[] = [];
  for (const entry of children(tracks, 0, tracks.length)) {
    if (entry.id !== TRACK_ENTRY) continue;
    for (const field of children(tracks, entry.dataAt, entry.dataAt + entry.size!)) {
      if (field.id !== TRACK_TYPE || field.size! < 1 || field.size! > 8) continue;
      let value = 0;
      for (let i = 0; i < field.size!; i++) value = value * 256 + tracks[field.dataAt + i]!;
      types.push(value);
    }
  }
  return types;
}

/** The TrackType of every track the file declares, or null when its Tracks cannot be found. */
export async function matroskaTrackTypes(blob: Blob): Promise<number[] | null> {
  const ebml = await headerAt(blob, 0);
  if (!ebml || ebml.id !== EBML_HEADER || ebml.size === null) return null;
  const segment = await headerAt(blob, ebml.dataAt + ebml.size);
  if (!segment || segment.id !== SEGMENT) return null;
  const end = segment.size === null ? blob.size : segment.dataAt + segment.size;
  let at = segment.dataAt;
  for (let n = 0; n < ELEMENTS_MAX && at < end; n++) {
    const h = await headerAt(blob, at);
    if (!h || h.size === null || h.id === CLUSTER) return null;
    if (h.id === TRACKS) {
      if (h.size > TRACKS_MAX || h.dataAt + h.size > blob.size) return null;
      const data = new Uint8Array(await blob.slice(h.dataAt, h.dataAt + h.size).arrayBuffer());
      return trackTypesIn(data);
    }
    at = h.dataAt + h.size;
  }
  return null;
}

/** The tracks of these types the enhanced file leaves out (it keeps one video, one audio). */
export function leftOutOfMatroska(types: readonly number[]): LeftOutTracks {
  const count = (type: number): number => types.filter((t) => t === type).length;
  return {
    subtitle: count(SUBTITLE),
    video: Math.max(0, count(VIDEO) - 1),
    other: types.filter((t) => t !== VIDEO && t !== AUDIO && t !== SUBTITLE).length,
  };
}
