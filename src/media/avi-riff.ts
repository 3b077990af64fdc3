/**
 * The RIFF side of the AVI reader (avi-input.ts): the file's top-level layout, the header list's
 * streams, and where each stream's chunks are, by the OpenDML index, idx1 or a walk.
 */
import type { PictureKind } from './avi-h264.ts';

/** Which index to read (tests compare them); `auto`: the OpenDML index, else idx1, else a walk. */
export type AviIndexChoice = 'auto' | 'odml' | 'idx1' | 'walk';

/** idx1's AVIIF_KEYFRAME. */
const IDX1_KEY = 0x10;
/** The most of a header list (hdrl) or index chunk read at once (a two-hour file's ix: ~2 MB). */
export const MAX_TABLE_BYTES = 64 * 1024 * 1024;

export interface Stream {
  readonly number: number;
  /** strh fccType: 'vids', 'auds', 'txts' ... */
  readonly type: string;
  readonly handler: string;
  readonly scale: number;
  readonly rate: number;
  readonly sampleSize: number;
  /** strf: BITMAPINFOHEADER (video) or WAVEFORMATEX (audio). */
  readonly format: Uint8Array;
  /** indx, the OpenDML super index, or null. */
  readonly superIndex: Uint8Array | null;
}

/** One chunk's data in the file. */
export interface Chunk {
  readonly offset: number;
  readonly size: number;
  readonly key: boolean;
  /** Found by walking, with no index to say whether it is a key frame. */
  readonly walked?: true;
  /** For H.264, what its first bytes say it is (avi-h264.ts), when the walk saw them. */
  readonly kind?: PictureKind;
}

/** What a walk is told to look at in the video stream's chunks as it passes them. */
export interface Classifier {
  readonly stream: number;
  /** Null when the bytes seen do not reach the first slice. */
  readonly of: (head: Uint8Array, whole: boolean) => PictureKind | null;
}

export const fourcc = (b: Uint8Array, at: number): string =>
  String.fromCharCode(b[at]!, b[at + 1]!, b[at + 2]!, b[at + 3]!);
export const u16 = (b: Uint8Array, at: number): number => b[at]! | (b[at + 1]! << 8);
export const u32 = (b: Uint8Array, at: number): number =>
  (b[at]! | (b[at + 1]! << 8) | (b[at + 2]! << 16)) + b[at + 3]! * 2 ** 24;

export async function bytesAt(
  blob: Blob,
  at: number,
  size: number,
): Promise<Uint8Array<ArrayBuffer>> {
  return new Uint8Array(await blob.slice(at, Math.min(at + size, blob.size)).arrayBuffer());
}

/** The children of a RIFF list whose data is `b[from, to)`: id, data start and size. */
function* children(
  b: Uint8Array,
  from: number,
  to: number,
): Generator<{ id: string; at: number; size: number }> {
  let p = from;
  while (p + 8 <= to) {
    const size = u32(b, p + 4);
    yield { id: fourcc(b, p), at: p + 8, size: Math.min(size, to - p - 8) };
    p += 8 + size + (size & 1);
  }
}

/** The streams of the header list (hdrl), and the frame count it declares. */
export function readHeader(hdrl: Uint8Array): { streams: Stream[]; declaredFrames: number } {
  const streams: Stream[] = [];
  let declaredFrames = 0;
  let odmlFrames = 0;
  // a stream's number (its chunks' '00', '01' ...) is its strl's place, whether read or not
  let strl = 0;
  for (const c of children(hdrl, 0, hdrl.length)) {
    if (c.id === 'avih' && c.size >= 20) declaredFrames = u32(hdrl, c.at + 16);
    if (c.id !== 'LIST' || c.size < 4) continue;
    const list = fourcc(hdrl, c.at);
    if (list === 'odml') {
      for (const d of children(hdrl, c.at + 4, c.at + c.size)) {
        if (d.id === 'dmlh' && d.size >= 4) odmlFrames = u32(hdrl, d.at);
      }
    }
    if (list !== 'strl') continue;
    let strh: Uint8Array | null = null;
    let strf: Uint8Array = new Uint8Array(0);
    let indx: Uint8Array | null = null;
    for (const d of children(hdrl, c.at + 4, c.at + c.size)) {
      const data = hdrl.subarray(d.at, d.at + d.size);
      if (d.id === 'strh') strh = data;
      else if (d.id === 'strf') strf = data;
      else if (d.id === 'indx') indx = data;
    }
    const number = strl++;
    if (!strh || strh.length < 48) continue;
    streams.push({
      number,
      type: fourcc(strh, 0),
      handler: fourcc(strh, 4),
      scale: u32(strh, 20),
      rate: u32(strh, 24),
      sampleSize: u32(strh, 44),
      format: strf,
      superIndex: indx,
    });
  }
  return { streams, declaredFrames: Math.max(declaredFrames, odmlFrames) };
}

/** The stream a chunk id ('00dc', '01wb') belongs to, or -1 (a list, JUNK, an index chunk). */
function streamOf(id: string): number {
  const n = id.charCodeAt(0) - 48;
  const m = id.charCodeAt(1) - 48;
  if (n < 0 || n > 9 || m < 0 || m > 9) return -1;
  const kind = id.slice(2);
  // 'pc' is a palette change, not a picture
  return kind === 'dc' || kind === 'db' || kind === 'wb' ? n * 10 + m : -1;
}

/**
 * Every chunk of the picture and sound streams from the OpenDML index, or null when one of them
 * has none (or an empty one, as a recorder that stopped before closing leaves it). Each ix##
 * chunk is read by the size its own header gives (writers differ on the super index's dwSize).
 */
async function odmlChunks(
  blob: Blob,
  streams: readonly Stream[],
  count: number,
): Promise<Chunk[][] | null> {
  const out: Chunk[][] = Array.from({ length: count }, () => []);
  for (const s of streams) {
    if (s.type !== 'vids' && s.type !== 'auds') continue;
    const sup = s.superIndex;
    // wLongsPerEntry 4, bIndexType 0 (AVI_INDEX_OF_INDEXES)
    if (!sup || sup.length < 24 || u16(sup, 0) !== 4 || sup[3] !== 0) return null;
    const chunks = out[s.number]!;
    const entries = Math.min(u32(sup, 4), Math.floor((sup.length - 24) / 16));
    for (let e = 0; e < entries; e++) {
      const at = 24 + 16 * e;
      const offset = u32(sup, at) + u32(sup, at + 4) * 2 ** 32;
      const head = await bytesAt(blob, offset, 8);
      if (head.length < 8 || fourcc(head, 0).slice(0, 2) !== 'ix') break;
      const size = u32(head, 4);
      if (size > MAX_TABLE_BYTES) break;
      const ix = await bytesAt(blob, offset, 8 + size);
      // after the header: wLongsPerEntry, bIndexSubType, bIndexType 1 (of chunks)
      if (ix.length < 32 || ix[11] !== 1) return null;
      const longs = u16(ix, 8);
      if (longs < 2) return null;
      const count = u32(ix, 12);
      const base = u32(ix, 20) + u32(ix, 24) * 2 ** 32;
      for (let k = 0; k < count; k++) {
        const p = 32 + 4 * longs * k;
        if (p + 8 > ix.length) break;
        const raw = u32(ix, p + 4);
        chunks.push({ offset: base + u32(ix, p), size: raw % 2 ** 31, key: raw < 2 ** 31 });
      }
    }
    if (chunks.length === 0) return null;
  }
  return out;
}

/** Every chunk of each stream from idx1, or null when there is none or it points nowhere. */
async function idx1Chunks(
  blob: Blob,
  idx1: { at: number; size: number } | null,
  movi: number,
  count: number,
): Promise<Chunk[][] | null> {
  if (!idx1 || idx1.size < 16 || idx1.size > MAX_TABLE_BYTES) return null;
  const b = await bytesAt(blob, idx1.at, idx1.size);
  const entries = Math.floor(b.length / 16);
  // offsets count from the 'movi' list type, or (some writers) from the file's start: the first
  // entry's id says which
  let base: number | null = null;
  for (let e = 0; e < entries && base === null; e++) {
    const id = fourcc(b, 16 * e);
    if (streamOf(id) < 0) continue;
    const off = u32(b, 16 * e + 8);
    for (const candidate of [movi, 0]) {
      const head = await bytesAt(blob, candidate + off, 4);
      if (head.length === 4 && fourcc(head, 0) === id) {
        base = candidate;
        break;
      }
    }
    if (base === null) return null;
  }
  if (base === null) return null;
  const out: Chunk[][] = Array.from({ length: count }, () => []);
  for (let e = 0; e < entries; e++) {
    const s = streamOf(fourcc(b, 16 * e));
    if (s < 0 || s >= count) continue;
    out[s]!.push({
      offset: base + u32(b, 16 * e + 8) + 8,
      size: u32(b, 16 * e + 12),
      key: (u32(b, 16 * e + 4) & IDX1_KEY) !== 0,
    });
  }
  return out;
}

/** How much the walk reads at a time: small, so that a big picture's bytes are skipped. */
const WALK_WINDOW = 16 * 1024;

/**
 * Every chunk of each stream in the movi lists, from `from` on (an index's end), walking chunk
 * headers (into 'rec ' groups) up to a cut.
 */
async function walkChunks(
  blob: Blob,
  movis: readonly { at: number; end: number }[],
  count: number,
  from = 0,
  classify: Classifier | null = null,
): Promise<Chunk[][]> {
  const out: Chunk[][] = Array.from({ length: count }, () => []);
  for (const movi of movis) {
    const end = Math.min(movi.end, blob.size);
    let p = Math.max(movi.at, from);
    if (p >= end) continue;
    let window: Uint8Array = new Uint8Array(0);
    let windowAt = 0;
    while (p + 8 <= end) {
      if (p < windowAt || p + 12 > windowAt + window.length) {
        windowAt = p;
        window = await bytesAt(blob, p, WALK_WINDOW);
        if (window.length < 8) break;
      }
      const id = fourcc(window, p - windowAt);
      const size = u32(window, p - windowAt + 4);
      if (id === 'LIST') {
        p += 12; // a 'rec ' group: its chunks follow
        continue;
      }
      // a chunk whose data runs past the end was cut: it and what follows are gone
      if (p + 8 + size > end) break;
      const s = streamOf(id);
      if (s >= 0 && s < count) {
        // the window holds the chunk's first bytes: an H.264 picture is classified from them
        const at = p - windowAt + 8;
        const seen = window.subarray(at, Math.min(window.length, at + size));
        const kind = s === classify?.stream ? classify.of(seen, seen.length === size) : null;
        out[s]!.push({ offset: p + 8, size, key: true, walked: true, ...(kind ? { kind } : {}) });
      }
      p += 8 + size + (size & 1);
    }
  }
  return out;
}

/**
 * The chunks an index gives, and after them those of the movi data it does not cover: a
 * recording stopped before its index was finished (idx1 cut short, an OpenDML segment without
 * its ix), or idx1's first RIFF followed by AVIX segments.
 */
async function withUnindexed(
  blob: Blob,
  indexed: Chunk[][],
  movis: readonly { at: number; end: number }[],
  classify: Classifier | null,
): Promise<{ chunks: Chunk[][]; walked: boolean }> {
  let covered = 0;
  for (const list of indexed) {
    for (const c of list) covered = Math.max(covered, c.offset + c.size + (c.size & 1));
  }
  const rest = await walkChunks(blob, movis, indexed.length, covered, classify);
  const walked = rest.some((list) => list.length > 0);
  return {
    chunks: walked ? indexed.map((list, s) => [...list, ...rest[s]!]) : indexed,
    walked,
  };
}

/** Where a RIFF AVI's parts are: its header list, its movi lists (AVIX ones too) and idx1. */
export interface RiffLayout {
  readonly hdrl: { readonly at: number; readonly size: number } | null;
  readonly idx1: { readonly at: number; readonly size: number } | null;
  readonly movis: readonly { readonly at: number; readonly end: number }[];
  /** Where the first movi list's type is: idx1 offsets count from here. */
  readonly moviType: number;
  /** A RIFF or movi size was left unset (0 or all ones, as a recorder that lost power leaves it). */
  readonly unclosed: boolean;
}

/** Walks the file's top-level chunks (of the first RIFF and the AVIX ones after it). */
export async function riffLayout(blob: Blob): Promise<RiffLayout> {
  const riff = await bytesAt(blob, 0, 12);
  // a size a recorder fills in when it closes the file: 0 (or all ones) after a power cut
  const unset = (size: number, at: number): boolean =>
    size < 4 || size === 0xffffffff || at + 8 + size > blob.size;
  let unclosed = unset(u32(riff, 4), 0);
  const riffEnd = unclosed ? blob.size : 8 + u32(riff, 4);
  // the first RIFF's top-level chunks: the header list, the movi list, idx1
  let hdrl: { at: number; size: number } | null = null;
  let idx1: { at: number; size: number } | null = null;
  const movis: { at: number; end: number }[] = [];
  let moviType = 0;
  let p = 12;
  let end = Math.min(riffEnd, blob.size);
  for (;;) {
    while (p + 8 <= end) {
      const h = await bytesAt(blob, p, 12);
      if (h.length < 8) break;
      const size = u32(h, 4);
      const id = fourcc(h, 0);
      const list = id === 'LIST' && h.length >= 12 ? fourcc(h, 8) : '';
      if (list === 'hdrl') hdrl ??= { at: p + 12, size: size - 4 };
      else if (list === 'movi') {
        if (movis.length === 0) moviType = p + 8;
        if (unset(size, p)) {
          // its frames run to the end of the file (or of the RIFF)
          unclosed = true;
          movis.push({ at: p + 12, end });
          break;
        }
        movis.push({ at: p + 12, end: p + 8 + size });
      } else if (id === 'idx1') idx1 ??= { at: p + 8, size };
      p += 8 + size + (size & 1);
    }
    // OpenDML: more RIFF 'AVIX' segments follow the first, each with a movi list
    p = Math.max(p, end);
    const next = await bytesAt(blob, p, 12);
    if (next.length < 12 || fourcc(next, 0) !== 'RIFF' || fourcc(next, 8) !== 'AVIX') break;
    const size = u32(next, 4);
    if (unset(size, p)) unclosed = true;
    end = unset(size, p) ? blob.size : p + 8 + size;
    p += 12;
  }
  return { hdrl, idx1, movis, moviType, unclosed };
}

/**
 * Every chunk of each stream: from an index (`index`: which; `auto` tries the OpenDML index,
 * then idx1), trusted for what it covers, and the movi data after it walked; or all walked.
 * Null when the index asked for is not there.
 */
export async function locateChunks(
  blob: Blob,
  layout: RiffLayout,
  streams: readonly Stream[],
  index: AviIndexChoice,
  classify: Classifier | null,
): Promise<{ chunks: Chunk[][]; walked: boolean } | null> {
  const { movis, idx1, moviType } = layout;
  const count = Math.max(...streams.map((s) => s.number + 1));
  const indexed =
    (index === 'auto' || index === 'odml' ? await odmlChunks(blob, streams, count) : null) ??
    (index === 'auto' || index === 'idx1' ? await idx1Chunks(blob, idx1, moviType, count) : null);
  if (!indexed && index !== 'auto' && index !== 'walk') return null;
  // an index is trusted for what it covers; the movi data after it is walked
  const found = indexed
    ? await withUnindexed(blob, indexed, movis, classify)
    : { chunks: await walkChunks(blob, movis, count, 0, classify), walked: true };
  return found;
}
