/**
 * The tracks a Matroska/WebM file declares. mediabunny 1.61 lists only its video and audio
 * tracks, so a film's subtitle tracks were left out of the enhanced file without a word. This
 * reads the Info and Tracks elements (RFC 9559 sections 5.1.2 and 5.1.4) by itself: one element
 * header per top-level element before the first cluster, then Info and Tracks whole. Muxers
 * write them before the first cluster; a file that puts them later (or has none) is read as
 * declaring nothing more.
 */
import type { LeftOutTracks } from './codecs.ts';
import { readHeader, type ElementHeader } from './mkv-salvage.ts';

const EBML_HEADER = 0x1a45dfa3;
const SEGMENT = 0x18538067;
export const CLUSTER = 0x1f43b675;
const INFO = 0x1549a966;
const SEEK_HEAD = 0x114d9b74;
const SEEK = 0x4dbb;
const SEEK_ID = 0x53ab;
const SEEK_POSITION = 0x53ac;
export const CUES = 0x1c53bb6b;
const TIMESTAMP_SCALE = 0x2ad7b1;
const TRACKS = 0x1654ae6b;
const TRACK_ENTRY = 0xae;
const TRACK_NUMBER = 0xd7;
const TRACK_TYPE = 0x83;
const FLAG_DEFAULT = 0x88;
const FLAG_FORCED = 0x55aa;
const FLAG_HEARING_IMPAIRED = 0x55ab;
const NAME = 0x536e;
const LANGUAGE = 0x22b59c;
const CODEC_ID = 0x86;
const CODEC_PRIVATE = 0x63a2;
const CONTENT_ENCODINGS = 0x6d80;
const CONTENT_ENCODING = 0x6240;
const CONTENT_ENCODING_SCOPE = 0x5032;
const CONTENT_ENCODING_TYPE = 0x5033;
const CONTENT_COMPRESSION = 0x5034;
const CONTENT_COMP_ALGO = 0x4254;
const CONTENT_COMP_SETTINGS = 0x4255;

/** Matroska TrackType values. */
const VIDEO = 1;
const AUDIO = 2;
export const SUBTITLE = 0x11;

/** Past this, Info or Tracks is not read: a real one is a few kilobytes. */
const ELEMENT_MAX = 1 << 20;
/** Top-level elements looked at before giving up on finding Tracks. */
const ELEMENTS_MAX = 32;

/** How a track's block data is stored (ContentEncoding, RFC 9559 section 5.1.4.1.31). */
export type BlockEncoding =
  | { readonly kind: 'none' }
  | { readonly kind: 'zlib' }
  /** Header stripping: these bytes were removed from the start of every block. */
  | { readonly kind: 'strip'; readonly bytes: Uint8Array }
  /** Encrypted, or compressed with bzlib or lzo: not read. */
  | { readonly kind: 'other' };

export interface TrackEntry {
  readonly number: number;
  readonly type: number;
  readonly codecId: string;
  /** The ISO 639-2 code (Language; Matroska's default is "eng"). */
  readonly language: string;
  readonly name: string | null;
  readonly isDefault: boolean;
  readonly forced: boolean;
  readonly hearingImpaired: boolean;
  readonly codecPrivate: Uint8Array | null;
  readonly encoding: BlockEncoding;
}

async function headerAt(blob: Blob, at: number): Promise<ElementHeader | null> {
  const bytes = new Uint8Array(await blob.slice(at, at + 12).arrayBuffer());
  return readHeader(bytes, 0, at);
}

/** The children of an element whose data is `bytes[from, to)`. */
export function* children(bytes: Uint8Array, from: number, to: number): Generator<ElementHeader> {
  let at = from;
  while (at < to) {
    const h = readHeader(bytes, at, 0);
    if (!h || h.size === null || h.dataAt + h.size > to) return;
    yield h;
    at = h.dataAt + h.size;
  }
}

/** An unsigned integer element's value (0 for an empty or oversized one). */
function uint(bytes: Uint8Array, h: ElementHeader): number {
  if (h.size! < 1 || h.size! > 7) return 0;
  let value = 0;
  for (let i = 0; i < h.size!; i++) value = value * 256 + bytes[h.dataAt + i]!;
  return value;
}

const utf8 = new TextDecoder();

function text(bytes: Uint8Array, h: ElementHeader): string {
  return utf8.decode(bytes.subarray(h.dataAt, h.dataAt + h.size!)).replace(/\0+$/, '');
}

function encodingOf(bytes: Uint8Array, h: ElementHeader): BlockEncoding {
  const encodings = [...children(bytes, h.dataAt, h.dataAt + h.size!)].filter(
    (e) => e.id === CONTENT_ENCODING,
  );
  const forFrames: BlockEncoding[] = [];
  for (const e of encodings) {
    let scope = 1;
    let type = 0;
    let algo = 0;
    let settings: Uint8Array | null = null;
    for (const f of children(bytes, e.dataAt, e.dataAt + e.size!)) {
      if (f.id === CONTENT_ENCODING_SCOPE) scope = uint(bytes, f);
      else if (f.id === CONTENT_ENCODING_TYPE) type = uint(bytes, f);
      else if (f.id === CONTENT_COMPRESSION) {
        for (const c of children(bytes, f.dataAt, f.dataAt + f.size!)) {
          if (c.id === CONTENT_COMP_ALGO) algo = uint(bytes, c);
          else if (c.id === CONTENT_COMP_SETTINGS) {
            settings = bytes.slice(c.dataAt, c.dataAt + c.size!);
          }
        }
      }
    }
    if (!(scope & 1)) continue; // it encodes the codec's private data only
    if (type !== 0) forFrames.push({ kind: 'other' });
    else if (algo === 0) forFrames.push({ kind: 'zlib' });
    else if (algo === 3 && settings) forFrames.push({ kind: 'strip', bytes: settings });
    else forFrames.push({ kind: 'other' });
  }
  if (forFrames.length === 0) return { kind: 'none' };
  return forFrames.length === 1 ? forFrames[0]! : { kind: 'other' };
}

/** Every TrackEntry of Tracks' data that gives its type, in file order. */
export function trackEntriesIn(tracks: Uint8Array): TrackEntry[] {
  const entries: TrackEntry[] = [];
  for (const entry of children(tracks, 0, tracks.length)) {
    if (entry.id !== TRACK_ENTRY) continue;
    let number = 0;
    let type: number | null = null;
    let codecId = '';
    let iso = 'eng';
    let name: string | null = null;
    let isDefault = true;
    let forced = false;
    let hearingImpaired = false;
    let codecPrivate: Uint8Array | null = null;
    let encoding: BlockEncoding = { kind: 'none' };
    for (const f of children(tracks, entry.dataAt, entry.dataAt + entry.size!)) {
      switch (f.id) {
        case TRACK_NUMBER:
          number = uint(tracks, f);
          break;
        case TRACK_TYPE:
          if (f.size! >= 1 && f.size! <= 7) type = uint(tracks, f);
          break;
        case CODEC_ID:
          codecId = text(tracks, f);
          break;
        case LANGUAGE:
          iso = text(tracks, f);
          break;
        case NAME:
          name = text(tracks, f) || null;
          break;
        case FLAG_DEFAULT:
          isDefault = uint(tracks, f) !== 0;
          break;
        case FLAG_FORCED:
          forced = uint(tracks, f) !== 0;
          break;
        case FLAG_HEARING_IMPAIRED:
          hearingImpaired = uint(tracks, f) !== 0;
          break;
        case CODEC_PRIVATE:
          codecPrivate = tracks.slice(f.dataAt, f.dataAt + f.size!);
          break;
        case CONTENT_ENCODINGS:
          encoding = encodingOf(tracks, f);
          break;
      }
    }
    if (type === null) continue;
    entries.push({
      number,
      type,
      codecId,
      language: iso,
      name,
      isDefault,
      forced,
      hearingImpaired,
      codecPrivate,
      encoding,
    });
  }
  return entries;
}

/** The TrackType of each TrackEntry in Tracks' data (entries without one are left out). */
export function trackTypesIn(tracks: Uint8Array): number[] {
  return trackEntriesIn(tracks).map((e) => e.type);
}

/** What the start of a Matroska file says: its tracks, its clock, and where its clusters start. */
export interface MatroskaHead {
  readonly tracks: readonly TrackEntry[];
  /** Nanoseconds per block timestamp unit (TimestampScale; 1 ms unless Info says otherwise). */
  readonly timestampScaleNs: number;
  /** Where the first top-level element after Tracks starts (clusters follow it). */
  readonly afterTracks: number;
  /** Where the segment's data ends (the file's end for a segment of unknown size). */
  readonly segmentEnd: number;
  /** Where the segment's data starts (positions in SeekHead and Cues count from here). */
  readonly segmentAt: number;
  /** Where the index (Cues) is, from the SeekHead or the walk, or null when neither says. */
  readonly cuesAt: number | null;
}

/** The Cues position a SeekHead's data gives (relative to the segment's data), or null. */
function cuesIn(seekHead: Uint8Array): number | null {
  for (const seek of children(seekHead, 0, seekHead.length)) {
    if (seek.id !== SEEK) continue;
    let id = 0;
    let position: number | null = null;
    for (const f of children(seekHead, seek.dataAt, seek.dataAt + seek.size!)) {
      if (f.id === SEEK_ID) id = uint(seekHead, f);
      else if (f.id === SEEK_POSITION) position = uint(seekHead, f);
    }
    if (id === CUES && position !== null) return position;
  }
  return null;
}

/** The tracks the file declares and its clock, or null when its Tracks cannot be found. */
export async function matroskaHead(blob: Blob): Promise<MatroskaHead | null> {
  const ebml = await headerAt(blob, 0);
  if (!ebml || ebml.id !== EBML_HEADER || ebml.size === null) return null;
  const segment = await headerAt(blob, ebml.dataAt + ebml.size);
  if (!segment || segment.id !== SEGMENT) return null;
  const end = segment.size === null ? blob.size : segment.dataAt + segment.size;
  let timestampScaleNs = 1e6;
  let cuesAt: number | null = null;
  let at = segment.dataAt;
  for (let n = 0; n < ELEMENTS_MAX && at < end; n++) {
    const h = await headerAt(blob, at);
    if (!h || h.size === null || h.id === CLUSTER) return null;
    if (h.id === CUES) cuesAt = at; // an index written at the front
    if (h.id === TRACKS || h.id === INFO || h.id === SEEK_HEAD) {
      if (h.size > ELEMENT_MAX || h.dataAt + h.size > blob.size) return null;
      const data = new Uint8Array(await blob.slice(h.dataAt, h.dataAt + h.size).arrayBuffer());
      if (h.id === TRACKS) {
        const tracks = trackEntriesIn(data);
        const afterTracks = h.dataAt + h.size;
        return {
          tracks,
          timestampScaleNs,
          afterTracks,
          segmentEnd: end,
          segmentAt: segment.dataAt,
          cuesAt,
        };
      }
      if (h.id === SEEK_HEAD) {
        const position = cuesIn(data);
        if (position !== null) cuesAt ??= segment.dataAt + position;
      }
      for (const f of children(data, 0, data.length)) {
        if (f.id === TIMESTAMP_SCALE) timestampScaleNs = uint(data, f) || 1e6;
      }
    }
    at = h.dataAt + h.size;
  }
  return null;
}

/** The TrackType of every track the file declares, or null when its Tracks cannot be found. */
export async function matroskaTrackTypes(blob: Blob): Promise<number[] | null> {
  return (await matroskaHead(blob))?.tracks.map((t) => t.type) ?? null;
}

/**
 * The tracks of these types the enhanced file leaves out: it keeps one video, the audio, and
 * `keptSubtitles` of the subtitle tracks (the text ones).
 */
export function leftOutOfMatroska(types: readonly number[], keptSubtitles = 0): LeftOutTracks {
  const count = (type: number): number => types.filter((t) => t === type).length;
  return {
    subtitle: Math.max(0, count(SUBTITLE) - keptSubtitles),
    video: Math.max(0, count(VIDEO) - 1),
    other: types.filter((t) => t !== VIDEO && t !== AUDIO && t !== SUBTITLE).length,
  };
}

/** Video for Windows FourCCs (upper-cased) of baseline Motion JPEG, as AVI files have them. */
export const MJPEG_FOURCCS: ReadonlySet<string> = new Set(['MJPG', 'AVRN', 'DMB1', 'JPEG']);

/**
 * The codec id of a Matroska video track mediabunny does not know, from its CodecID: 'mjpeg' for
 * Motion JPEG (V_MJPEG, or a Video for Windows 'MJPG'), which Upframe decodes; otherwise the
 * CodecID (with a Video for Windows track's FourCC), which codecs.ts names for the error.
 */
function videoEntry(tracks: readonly TrackEntry[], number: number): TrackEntry | undefined {
  const videos = tracks.filter((t) => t.type === 1);
  return videos.find((t) => t.number === number) ?? videos[0];
}

/** The CodecPrivate of video track `number` (or the first video track). */
export function matroskaCodecPrivate(
  tracks: readonly TrackEntry[],
  number: number,
): Uint8Array | null {
  return videoEntry(tracks, number)?.codecPrivate ?? null;
}

export function matroskaVideoCodec(tracks: readonly TrackEntry[], number: number): string | null {
  const entry = videoEntry(tracks, number);
  if (!entry?.codecId) return null;
  if (entry.codecId === 'V_MJPEG') return 'mjpeg';
  if (entry.codecId === 'V_MPEG2') return 'mpeg2';
  if (entry.codecId === 'V_MPEG1') return 'mpeg1';
  const bih = entry.codecPrivate;
  if (entry.codecId === 'V_MS/VFW/FOURCC' && bih && bih.length >= 20) {
    const fourcc = String.fromCharCode(...bih.subarray(16, 20));
    return MJPEG_FOURCCS.has(fourcc.toUpperCase()) ? 'mjpeg' : `V_MS/VFW/FOURCC/${fourcc}`;
  }
  return entry.codecId;
}
