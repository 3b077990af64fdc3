/**
 * A Matroska/WebM file's text subtitles (SRT, WebVTT, ASS/SSA), read from its clusters:
 * mediabunny 1.61 lists no subtitle tracks. Cue times are the cluster's Timestamp plus the
 * block's offset, in TimestampScale units (RFC 9559 sections 5.1.3 and 10.1).
 *
 * Subtitle blocks sit among the video and audio blocks. The file's index (Cues) says where each
 * line is when its muxer listed the subtitle tracks (ffmpeg and mkvmerge do): then a few
 * kilobytes are read per line. Otherwise the range's clusters are walked through a window of the
 * file read a megabyte at a time, about the file's size for a whole film (`npm run bench --
 * --only subtitles` measures both).
 */
import { trackLanguage } from './codecs.ts';
import { readHeader, readVint, type ElementHeader } from './mkv-salvage.ts';
import {
  children,
  CLUSTER,
  CUES,
  SUBTITLE,
  type MatroskaHead,
  type TrackEntry,
} from './mkv-tracks.ts';
import {
  styleAlignments,
  type SubtitleCue,
  type SubtitleKind,
  type SubtitleTrackInfo,
} from './subtitle-text.ts';

const TIMESTAMP = 0xe7;
const SIMPLE_BLOCK = 0xa3;
const BLOCK_GROUP = 0xa0;
const BLOCK = 0xa1;
const BLOCK_DURATION = 0x9b;

/** Clusters starting this long before a range are read too, for a line already on screen. */
const LOOKBACK_US = 10e6;
/** A block without a duration shows until the track's next line, or this long. */
const DEFAULT_DURATION_US = 4e6;
const WINDOW_BYTES = 1 << 20;

/** The kind of subtitles Upframe copies for a Matroska codec ID, or null (pictures, others). */
export function subtitleKind(codecId: string): SubtitleKind | null {
  switch (codecId) {
    case 'S_TEXT/UTF8':
    case 'S_TEXT/ASCII':
      return 'srt';
    case 'S_TEXT/WEBVTT':
    case 'D_WEBVTT/SUBTITLES':
    case 'D_WEBVTT/CAPTIONS':
      return 'webvtt';
    case 'S_TEXT/ASS':
    case 'S_TEXT/SSA':
    case 'S_ASS':
    case 'S_SSA':
      return 'ass';
    default:
      return null;
  }
}

/** The file's subtitle tracks Upframe can copy, in file order. */
export function textSubtitleTracks(tracks: readonly TrackEntry[]): SubtitleTrackInfo[] {
  return tracks.flatMap((t) => {
    const kind = subtitleKind(t.codecId);
    if (t.type !== SUBTITLE || !kind || t.encoding.kind === 'other' || t.number === 0) return [];
    return [
      {
        id: t.number,
        kind,
        language: trackLanguage(t.language),
        title: t.name,
        isDefault: t.isDefault,
        forced: t.forced,
        hearingImpaired: t.hearingImpaired,
        ...(kind === 'ass' && t.codecPrivate
          ? { alignments: styleAlignments(new TextDecoder().decode(t.codecPrivate)) }
          : {}),
      },
    ];
  });
}

/** Reads `[at, at + n)` of a blob through a cached window (most reads are a header apart). */
class ByteWindow {
  private from = 0;
  private bytes = new Uint8Array(0);
  constructor(
    private readonly blob: Blob,
    private readonly size: number,
  ) {}

  async get(at: number, n: number): Promise<Uint8Array> {
    if (at < this.from || at + n > this.from + this.bytes.length) {
      const to = Math.min(this.blob.size, at + Math.max(n, this.size));
      this.bytes = new Uint8Array(await this.blob.slice(at, to).arrayBuffer());
      this.from = at;
    }
    return this.bytes.subarray(at - this.from, at - this.from + n);
  }

  async header(at: number): Promise<ElementHeader | null> {
    return readHeader(await this.get(at, 12), 0, at);
  }
}

interface RawBlock {
  readonly track: number;
  readonly offset: number;
  readonly lacing: number;
  readonly payload: Uint8Array;
}

/** A Block's track, its signed offset from the cluster's Timestamp, and its data. */
function parseBlock(bytes: Uint8Array): RawBlock | null {
  const vint = readVint(bytes, 0, false);
  if (!vint || vint.length > 4 || bytes.length < vint.length + 3) return null;
  const length = vint.length;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return {
    track: vint.value,
    offset: view.getInt16(length),
    lacing: (bytes[length + 2]! >> 1) & 3,
    payload: bytes.subarray(length + 3),
  };
}

async function inflate(bytes: Uint8Array): Promise<Uint8Array> {
  const stream = new Blob([bytes as Uint8Array<ArrayBuffer>])
    .stream()
    .pipeThrough(new DecompressionStream('deflate'));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

const utf8 = new TextDecoder();

export interface Found {
  readonly track: number;
  readonly startUs: number;
  readonly durationUs: number | null;
  readonly payload: Uint8Array;
}

/**
 * Each track's cues (in `tracks`' order) that show in `[fromUs, toUs)` of the file's time, as
 * the file stores them (text not yet made SRT), in time order. A line that started more than
 * ten seconds before `fromUs` and still shows at it may be missed (the walk reads one cluster
 * before the look-back, the index none). The lines are found through the
 * file's index where it lists every subtitle track (ffmpeg and mkvmerge list each line), which
 * reads a few kilobytes per line; otherwise the range's clusters are walked.
 */
export async function readMatroskaSubtitles(
  blob: Blob,
  head: MatroskaHead,
  tracks: readonly SubtitleTrackInfo[],
  fromUs: number,
  toUs: number,
): Promise<SubtitleCue[][]> {
  const wanted = new Set(tracks.map((t) => t.id));
  const found =
    (await fromIndex(blob, head, wanted, fromUs, toUs)) ??
    (await scanClusters(blob, head, wanted, fromUs, toUs));
  return gather(found, tracks, head, fromUs, toUs);
}

/**
 * The wanted tracks' blocks in the range, walking every cluster from the first. A cluster that
 * starts more than the look-back before the range is skipped, unless the next one starts after
 * that: a line in it may still show when the range starts.
 */
export async function scanClusters(
  blob: Blob,
  head: MatroskaHead,
  wanted: ReadonlySet<number>,
  fromUs: number,
  toUs: number,
): Promise<Found[]> {
  const usPerUnit = head.timestampScaleNs / 1000;
  const found: Found[] = [];
  const window = new ByteWindow(blob, WINDOW_BYTES);
  const end = Math.min(head.segmentEnd, blob.size);
  const walk = (cluster: Cluster): Promise<number> =>
    walkBlocks(window, cluster, wanted, usPerUnit, found);
  /** The cluster before, skipped as too early. */
  let skipped: Cluster | null = null;
  let at = head.afterTracks;
  while (at < end) {
    const h = await window.header(at);
    if (!h) break;
    if (h.id !== CLUSTER) {
      if (h.size === null) break;
      at = h.dataAt + h.size;
      continue;
    }
    const cluster: Cluster = {
      header: h,
      end: h.size === null ? end : Math.min(end, h.dataAt + h.size),
      us: await timestampOf(window, h, usPerUnit),
    };
    if (cluster.us !== null && cluster.us >= toUs) break;
    let next: number;
    if (cluster.us !== null && cluster.us < fromUs - LOOKBACK_US && h.size !== null) {
      skipped = cluster;
      next = cluster.end;
    } else {
      if (skipped) await walk(skipped);
      skipped = null;
      next = await walk(cluster);
    }
    if (h.size !== null) next = h.dataAt + h.size;
    if (next <= at) break;
    at = next;
  }
  return found;
}

interface Cluster {
  readonly header: ElementHeader;
  /** Where its data ends (the file's end for a cluster of unknown size). */
  readonly end: number;
  /** Its Timestamp, or null when it has none among its first children. */
  readonly us: number | null;
}

/** A cluster's Timestamp (among its first children: ffmpeg puts a CRC-32 first), or null. */
async function timestampOf(
  window: ByteWindow,
  h: ElementHeader,
  usPerUnit: number,
): Promise<number | null> {
  let child = h.dataAt;
  for (let n = 0; n < 4; n++) {
    const c = await window.header(child);
    if (!c || c.size === null) return null;
    if (c.id === TIMESTAMP) {
      const bytes = c.size <= 8 ? await window.get(c.dataAt, c.size) : null;
      return bytes && bytes.length === c.size ? uintOf(bytes) * usPerUnit : null;
    }
    child = c.dataAt + c.size;
  }
  return null;
}

/**
 * Adds a cluster's blocks of the wanted tracks to `found`; returns where its walk stopped (for a
 * cluster of unknown size, where the next top-level element starts).
 */
async function walkBlocks(
  window: ByteWindow,
  cluster: Cluster,
  wanted: ReadonlySet<number>,
  usPerUnit: number,
  found: Found[],
): Promise<number> {
  const unsized = cluster.header.size === null;
  let child = cluster.header.dataAt;
  while (child < cluster.end) {
    const c = await window.header(child);
    // a cluster of unknown size ends where the next top-level element (a 4-byte ID) starts
    if (!c || c.size === null || (unsized && c.id > 0xffffff)) break;
    const next = c.dataAt + c.size;
    if (next > cluster.end) break; // a corrupt size, or the file ends inside it
    if (cluster.us !== null && (c.id === SIMPLE_BLOCK || c.id === BLOCK_GROUP)) {
      const block = await blockAt(window, c, wanted);
      if (block) found.push(foundOf(block, cluster.us, usPerUnit));
    }
    child = next;
  }
  return child;
}

const uintOf = (bytes: Uint8Array): number => bytes.reduce((v, b) => v * 256 + b, 0);

function foundOf(
  block: { block: RawBlock; duration: number | null },
  clusterUs: number,
  usPerUnit: number,
): Found {
  return {
    track: block.block.track,
    startUs: clusterUs + block.block.offset * usPerUnit,
    durationUs: block.duration === null ? null : block.duration * usPerUnit,
    payload: block.block.payload.slice(),
  };
}

const CUE_POINT = 0xbb;
const CUE_TIME = 0xb3;
const CUE_TRACK_POSITIONS = 0xb7;
const CUE_TRACK = 0xf7;
const CUE_CLUSTER_POSITION = 0xf1;
const CUE_RELATIVE_POSITION = 0xf0;
const CUE_DURATION = 0xb2;
/** Past this, the index is not read (a two-hour film's is some hundreds of kilobytes). */
const INDEX_MAX = 64 << 20;
/** Reads around one line: its cluster's start, then its block. */
const LINE_WINDOW_BYTES = 16 << 10;

/** An index entry of a wanted track: where its block is. */
interface Listed {
  readonly track: number;
  readonly cluster: number;
  readonly relative: number | null;
}

/**
 * The wanted tracks' blocks in the range as the index (Cues) lists them, or null when it cannot
 * be used: no index, a wanted track it does not list, an entry without its line's duration
 * (ffmpeg and mkvmerge list every line, each a key block, with its duration; a muxer that does not
 * may list some only), an entry without its place in the cluster (Matroska before version 4), or
 * an entry that does not lead to a block of its track.
 */
export async function fromIndex(
  blob: Blob,
  head: MatroskaHead,
  wanted: ReadonlySet<number>,
  fromUs: number,
  toUs: number,
): Promise<Found[] | null> {
  if (head.cuesAt === null) return null;
  const window = new ByteWindow(blob, LINE_WINDOW_BYTES);
  const h = await window.header(head.cuesAt);
  if (!h || h.id !== CUES || h.size === null || h.size > INDEX_MAX) return null;
  if (h.dataAt + h.size > blob.size) return null;
  const cues = new Uint8Array(await blob.slice(h.dataAt, h.dataAt + h.size).arrayBuffer());
  const usPerUnit = head.timestampScaleNs / 1000;
  const listed: Listed[] = [];
  const seen = new Set<number>();
  for (const point of children(cues, 0, cues.length)) {
    if (point.id !== CUE_POINT) continue;
    let timeUs: number | null = null;
    const positions: Listed[] = [];
    for (const f of children(cues, point.dataAt, point.dataAt + point.size!)) {
      if (f.id === CUE_TIME)
        timeUs = uintOf(cues.subarray(f.dataAt, f.dataAt + f.size!)) * usPerUnit;
      if (f.id !== CUE_TRACK_POSITIONS) continue;
      let track = 0;
      let cluster: number | null = null;
      let relative: number | null = null;
      let timed = false;
      for (const g of children(cues, f.dataAt, f.dataAt + f.size!)) {
        const value = uintOf(cues.subarray(g.dataAt, g.dataAt + g.size!));
        if (g.id === CUE_TRACK) track = value;
        else if (g.id === CUE_CLUSTER_POSITION) cluster = value;
        else if (g.id === CUE_RELATIVE_POSITION) relative = value;
        else if (g.id === CUE_DURATION) timed = true;
      }
      if (!wanted.has(track)) continue;
      // an entry without its line's duration: a muxer that may not list every line
      if (cluster === null || !timed) return null;
      positions.push({ track, cluster, relative });
    }
    for (const p of positions) seen.add(p.track);
    if (timeUs === null || timeUs < fromUs - LOOKBACK_US || timeUs >= toUs) continue;
    listed.push(...positions);
  }
  if ([...wanted].some((t) => !seen.has(t))) return null;
  const found: Found[] = [];
  const clusters = new Map<number, { dataAt: number; us: number } | null>();
  const done = new Set<number>();
  for (const entry of listed) {
    if (entry.relative === null) return null;
    const clusterAt = head.segmentAt + entry.cluster;
    if (!clusters.has(clusterAt))
      clusters.set(clusterAt, await clusterStart(window, clusterAt, usPerUnit));
    const cluster = clusters.get(clusterAt);
    if (!cluster) return null;
    const blockAtPosition = cluster.dataAt + entry.relative;
    if (done.has(blockAtPosition)) continue;
    done.add(blockAtPosition);
    const c = await window.header(blockAtPosition);
    if (!c || c.size === null || (c.id !== SIMPLE_BLOCK && c.id !== BLOCK_GROUP)) return null;
    const block = await blockAt(window, c, wanted);
    if (!block || block.block.track !== entry.track) return null;
    found.push(foundOf(block, cluster.us, usPerUnit));
  }
  return found;
}

/** Where a cluster's children start and its Timestamp, or null when it is no cluster. */
async function clusterStart(
  window: ByteWindow,
  at: number,
  usPerUnit: number,
): Promise<{ dataAt: number; us: number } | null> {
  const h = await window.header(at);
  if (!h || h.id !== CLUSTER) return null;
  const us = await timestampOf(window, h, usPerUnit);
  return us === null ? null : { dataAt: h.dataAt, us };
}

/** Past this a block is no subtitle line (a corrupt size, or a video frame): not read. */
const LINE_MAX = 1 << 20;

/**
 * The block of a wanted track in SimpleBlock or BlockGroup `c`, with its BlockDuration; null for
 * another track's, a laced one, or one the file does not hold whole (a cut file's last).
 */
async function blockAt(
  window: ByteWindow,
  c: ElementHeader,
  wanted: ReadonlySet<number>,
): Promise<{ block: RawBlock; duration: number | null } | null> {
  if (c.size === null || c.size < 4) return null;
  // the track number comes first (in a group, after the Block's header): a video or audio
  // block is not read past it
  const head = await window.get(c.dataAt, Math.min(c.size, 16));
  const peek =
    c.id === SIMPLE_BLOCK
      ? parseBlock(head)
      : (() => {
          const g = readHeader(head, 0, 0);
          return g && g.id === BLOCK ? parseBlock(head.subarray(g.dataAt)) : null;
        })();
  // (a group whose Block is not first is read whole and checked below)
  if (peek ? !wanted.has(peek.track) : c.id === SIMPLE_BLOCK) return null;
  if (c.size > LINE_MAX) return null;
  const bytes = await window.get(c.dataAt, c.size);
  if (bytes.length < c.size) return null; // the file ends inside it
  if (c.id === SIMPLE_BLOCK) {
    const block = parseBlock(bytes);
    return block && block.lacing === 0 ? { block, duration: null } : null;
  }
  const group = bytes;
  let block: RawBlock | null = null;
  let duration: number | null = null;
  let at = 0;
  while (at < group.length) {
    const g = readHeader(group, at, 0);
    if (!g || g.size === null || g.dataAt + g.size > group.length) break;
    const data = group.subarray(g.dataAt, g.dataAt + g.size);
    if (g.id === BLOCK) block = parseBlock(data);
    else if (g.id === BLOCK_DURATION) duration = uintOf(data);
    at = g.dataAt + g.size;
  }
  if (!block || block.lacing !== 0 || !wanted.has(block.track)) return null;
  return { block, duration };
}

async function gather(
  found: readonly Found[],
  tracks: readonly SubtitleTrackInfo[],
  head: MatroskaHead,
  fromUs: number,
  toUs: number,
): Promise<SubtitleCue[][]> {
  const out: SubtitleCue[][] = [];
  for (const t of tracks) {
    const entry = head.tracks.find((e) => e.number === t.id);
    const mine = found.filter((f) => f.track === t.id).sort((a, b) => a.startUs - b.startUs);
    const cues: SubtitleCue[] = [];
    for (const [i, f] of mine.entries()) {
      const nextUs = mine[i + 1]?.startUs ?? Infinity;
      const durationUs = f.durationUs ?? Math.min(DEFAULT_DURATION_US, nextUs - f.startUs);
      if (f.startUs + durationUs <= fromUs || f.startUs >= toUs || durationUs <= 0) continue;
      let payload = f.payload;
      const encoding = entry?.encoding ?? { kind: 'none' };
      if (encoding.kind === 'zlib') payload = await inflate(payload).catch(() => new Uint8Array());
      else if (encoding.kind === 'strip') {
        payload = new Uint8Array([...encoding.bytes, ...payload]);
      }
      cues.push({ startUs: f.startUs, durationUs, text: utf8.decode(payload).replace(/\0+$/, '') });
    }
    out.push(cues);
  }
  return out;
}
