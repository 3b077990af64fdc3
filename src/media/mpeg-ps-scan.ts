/**
 * One pass over an MPEG program stream at open (mpeg-ps.ts): the file is read in windows, its
 * PES packets sorted by stream, and each stream's elementary bytes cut into pictures or audio
 * frames (mpeg-video-es.ts, mpeg-audio-es.ts) as they go by. What is kept of each picture or
 * frame is where it is in the file (typed arrays, some 40 bytes each): the PES packet its first
 * byte is in, how far into that packet's payload it starts, and where the PES packet holding its
 * last byte ends. Reading it again (mpeg-ps-packs.ts `extract`) walks that stretch of the file
 * and takes the stream's payloads, since a picture's bytes are spread over many PES packets
 * between the other streams'.
 */
import { AudioFrameSplitter, type AudioFraming } from './mpeg-audio-es.ts';
import { nextSystemCode, unitAt, type StreamKey } from './mpeg-ps-packs.ts';
import { MpegVideoSplitter, type CodedPicture } from './mpeg-video-es.ts';

/** A growable typed array. */
export class Column<A extends Float64Array | Uint32Array | Uint16Array | Uint8Array> {
  private data: A;
  length = 0;

  constructor(private readonly make: (n: number) => A) {
    this.data = make(256);
  }

  push(v: number): void {
    if (this.length === this.data.length) {
      const bigger = this.make(this.length * 2);
      bigger.set(this.data);
      this.data = bigger;
    }
    this.data[this.length++] = v;
  }

  /** The values pushed, in an array of exactly that length. */
  done(): A {
    return this.data.slice(0, this.length) as A;
  }
}

const f64 = (): Column<Float64Array> => new Column((n) => new Float64Array(n));
const u32 = (): Column<Uint32Array> => new Column((n) => new Uint32Array(n));
const u16 = (): Column<Uint16Array> => new Column((n) => new Uint16Array(n));
const u8 = (): Column<Uint8Array> => new Column((n) => new Uint8Array(n));

/** A picture's flags (PsPackets.flags): its picture_coding_type in the low bits, then these. */
export const PICTURE_TYPE = 7;
export const AFTER_SEQUENCE_HEADER = 8;
export const AFTER_GOP = 16;
export const CLOSED_GOP = 32;
export const PROGRESSIVE_FRAME = 64;
export const TOP_FIELD_FIRST = 128;

/** Where a stream's packets (pictures, audio frames) are, with what the timing needs. */
export class PsPackets {
  /** File offset of the PES packet holding the packet's first byte. */
  readonly fileStart = f64();
  /** Bytes of that PES packet's payload before the packet starts. */
  readonly skip = u32();
  /** File offset where the PES packet holding its last byte ends. */
  readonly fileEnd = f64();
  readonly size = u32();
  /** The PES PTS that belongs to it (90 kHz, unwrapped), or NaN. */
  readonly pts = f64();
  /** Video: picture_coding_type and the flags above. */
  readonly flags = u8();
  /** Video: temporal_reference. */
  readonly order = u16();
  /** Video: fields shown; audio: samples a channel. */
  readonly span = u32();

  get length(): number {
    return this.size.length;
  }
}

/**
 * The recent PES packets of one stream: where each is in the file and where its payload is in
 * the elementary stream, so that a picture or frame found in the stream's bytes can be placed.
 * Packets before what the splitter may still hand out are dropped as it goes.
 */
class PesLog {
  private pesAt: number[] = [];
  private esAt: number[] = [];
  private pesEnd: number[] = [];
  private pts: number[] = [];
  private used: boolean[] = [];
  private head = 0;

  add(pesAt: number, esAt: number, pesEnd: number, pts: number): void {
    this.pesAt.push(pesAt);
    this.esAt.push(esAt);
    this.pesEnd.push(pesEnd);
    this.pts.push(pts);
    this.used.push(false);
  }

  /** Index of the packet whose payload holds stream offset `at`. */
  private find(at: number): number {
    let lo = this.head;
    let hi = this.esAt.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.esAt[mid]! <= at) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  /** Records a packet (stream bytes [start, end), its first unit starting at `unitAt`). */
  place(into: PsPackets, start: number, end: number, unitAt: number): void {
    const s = this.find(start);
    const u = this.find(unitAt);
    // a PTS belongs to the first unit that starts in its PES packet
    let pts = NaN;
    if (!this.used[u] && !Number.isNaN(this.pts[u]!) && this.esAt[u]! <= unitAt) {
      pts = this.pts[u]!;
      this.used[u] = true;
    }
    into.fileStart.push(this.pesAt[s]!);
    into.skip.push(start - this.esAt[s]!);
    into.fileEnd.push(this.pesEnd[this.find(end - 1)]!);
    into.size.push(end - start);
    into.pts.push(pts);
  }

  /** Forgets the packets wholly before stream offset `from` (the last one is kept). */
  prune(from: number): void {
    const last = this.esAt.length - 1;
    while (this.head < last && this.esAt[this.head + 1]! <= from) this.head++;
    if (this.head > 4096) {
      for (const list of [this.pesAt, this.esAt, this.pesEnd, this.pts]) list.splice(0, this.head);
      this.used.splice(0, this.head);
      this.head = 0;
    }
  }
}

export type StreamKind = 'video' | AudioFraming | 'lpcm';

/** One stream being gathered. */
export interface ScannedStream {
  readonly key: StreamKey;
  readonly kind: StreamKind;
  readonly packets: PsPackets;
  /** Where the stream first appears in the file (tracks are listed in that order). */
  readonly firstAt: number;
  /** Video: its splitter (the sequence header); audio: its framing (the first header). */
  readonly video?: MpegVideoSplitter;
  readonly audio?: AudioFrameSplitter;
  /** LPCM: the format byte of its first packet's header. */
  lpcmFormat?: number;
  /** Left out (an MPEG audio layer that cannot be kept): no more packets are gathered. */
  dropped?: boolean;
}

/** A stream as the scan holds it: its recent PES packets, its stream bytes so far. */
interface Gathered extends ScannedStream {
  readonly log: PesLog;
  es: number;
  /** LPCM: the stream offset its packets so far end at. */
  done: number;
}

export interface PsScan {
  readonly streams: ScannedStream[];
  /** Other streams seen, by key, where they first are (DTS, subpictures, a second video). */
  readonly others: Map<StreamKey, number>;
  /**
   * The file ends inside a PES packet or a picture (cut short, or one part of a DVD's VOB set).
   */
  readonly cut: boolean;
  /** Bytes between units that were passed over (damage; a VCD's sector headers). */
  readonly skipped: number;
}

/** What the scan reads at a time: more than a PES packet (64 KiB), a few reads a DVD second. */
const WINDOW = 1024 * 1024;
/** 2^33: where PTS values wrap (26.5 hours at 90 kHz). */
const WRAP = 2 ** 33;

/** The kind of a stream by its key, or null for streams not gathered. */
function kindOf(key: StreamKey): StreamKind | null {
  if (key >= 0xe0 && key <= 0xef) return 'video';
  if (key >= 0xc0 && key <= 0xdf) return 'mpeg-audio';
  if (key >= 0x180 && key <= 0x187) return 'ac3';
  if (key >= 0x1a0 && key <= 0x1a7) return 'lpcm';
  return null;
}

/**
 * Scans the program stream from `from` (after a VCD file's RIFF header) to the end of the file.
 * `mayDrop` tells from an MPEG audio stream's first frame whether to stop gathering it.
 */
export async function scanProgramStream(
  blob: Blob,
  from: number,
  mayDrop: (layer: number) => boolean,
): Promise<PsScan> {
  const streams = new Map<StreamKey, Gathered>();
  const others = new Map<StreamKey, number>();
  let video: StreamKey | null = null;
  let lastPts = NaN;
  let cut = false;
  let skipped = 0;

  const unwrap = (raw: number): number => {
    if (raw < 0) return NaN;
    if (Number.isNaN(lastPts)) return (lastPts = raw);
    const k = Math.round((lastPts - raw) / WRAP);
    return (lastPts = raw + k * WRAP);
  };

  const open = (key: StreamKey, at: number): Gathered | null => {
    const known = streams.get(key);
    if (known) return known.dropped ? null : known;
    const kind = kindOf(key);
    if (!kind || (kind === 'video' && video !== null)) {
      if (!others.has(key)) others.set(key, at);
      return null;
    }
    const log = new PesLog();
    const packets = new PsPackets();
    const s: Gathered = { key, kind, packets, firstAt: at, log, es: 0, done: 0 };
    if (kind === 'video') {
      video = key;
      const splitter = new MpegVideoSplitter(recordPicture(log, packets));
      Object.assign(s, { video: splitter });
    } else if (kind !== 'lpcm') {
      const splitter = new AudioFrameSplitter(kind, (start, h) => {
        log.place(packets, start, start + h.size, start);
        packets.span.push(h.samples);
        if (kind === 'mpeg-audio' && packets.length === 1 && mayDrop(h.layer)) s.dropped = true;
      });
      Object.assign(s, { audio: splitter });
    }
    streams.set(key, s);
    return s;
  };

  const take = (
    s: Gathered,
    payload: Uint8Array,
    pesAt: number,
    pesEnd: number,
    pts: number,
    header: Uint8Array,
  ): void => {
    s.log.add(pesAt, s.es, pesEnd, pts);
    s.es += payload.length;
    if (s.video) {
      s.video.push(payload);
      s.log.prune(s.video.pendingFrom);
    } else if (s.audio) {
      s.audio.push(payload);
      s.log.prune(s.audio.pendingFrom);
    } else {
      // LPCM: whole sample frames up to the end of each PES packet (16-bit only is kept)
      if (s.lpcmFormat === undefined) {
        s.lpcmFormat = header[1]!;
        if (lpcmBits(s.lpcmFormat) !== 16) {
          s.dropped = true;
          return;
        }
      }
      const frame = lpcmFrameBytes(s.lpcmFormat);
      const end = Math.floor(s.es / frame) * frame;
      if (end > s.done) {
        s.log.place(s.packets, s.done, end, s.done);
        s.packets.span.push((end - s.done) / frame);
        s.done = end;
      }
      s.log.prune(end);
    }
  };

  let window = new Uint8Array(0);
  let windowAt = from;
  let at = from;
  while (at < blob.size) {
    let rel = at - windowAt;
    if (rel < 0 || rel + 16 > window.length) {
      windowAt = at;
      window = new Uint8Array(await blob.slice(at, Math.min(at + WINDOW, blob.size)).arrayBuffer());
      rel = 0;
    }
    const eof = windowAt + window.length >= blob.size;
    if (!(
      window[rel] === 0 &&
      window[rel + 1] === 0 &&
      window[rel + 2] === 1 &&
      window[rel + 3]! >= 0xb9
    )) {
      const next = nextSystemCode(window, rel);
      if (next < 0) {
        // nothing in the rest of the window but its last bytes, which may start one
        const rest = Math.max(rel + 1, window.length - 3);
        skipped += rest - rel;
        if (eof) {
          skipped += window.length - rest;
          break;
        }
        at = windowAt + rest;
        continue;
      }
      skipped += next - rel;
      rel = next;
    }
    const unit = unitAt(window, rel, eof);
    if (!unit) {
      if (rel === 0) break; // (cannot happen: a unit is smaller than a window)
      at = windowAt + rel;
      window = new Uint8Array(0);
      continue;
    }
    if (unit.kind === 'pes' && unit.payloadEnd > unit.payloadAt) {
      const s = open(unit.stream, windowAt + rel);
      if (s) {
        take(
          s,
          window.subarray(unit.payloadAt, unit.payloadEnd),
          windowAt + rel,
          Math.min(windowAt + unit.next, blob.size),
          unwrap(unit.pts),
          window.subarray(unit.payloadAt - 3, unit.payloadAt),
        );
      } else if (unit.pts >= 0) unwrap(unit.pts);
    }
    if (unit.cut) {
      cut = true;
      break;
    }
    at = windowAt + unit.next;
  }
  for (const s of streams.values()) {
    if (s.dropped) continue;
    // a file cut between two PES packets ends with a picture whose last rows are missing
    if (s.video?.end(!cut)) cut = true;
    s.audio?.end();
  }
  return {
    streams: [...streams.values()],
    others,
    cut,
    skipped,
  };
}

/** Bits of an LPCM sample from its header's format byte (16, 20 or 24). */
export function lpcmBits(format: number): number {
  return 16 + ((format >> 6) & 3) * 4;
}

/** Bytes of one 16-bit LPCM sample frame (every channel's sample). */
export function lpcmFrameBytes(format: number): number {
  return 2 * (1 + (format & 7));
}

/** Keeps each picture the splitter finds: where it is, its type and flags, order and fields. */
export function recordPicture(
  log: { place(into: PsPackets, start: number, end: number, unitAt: number): void },
  packets: PsPackets,
): (p: CodedPicture) => void {
  return (p) => {
    log.place(packets, p.start, p.end, p.pictureAt);
    packets.flags.push(
      p.type |
        (p.sequenceHeader ? AFTER_SEQUENCE_HEADER : 0) |
        (p.gop ? AFTER_GOP : 0) |
        (p.closedGop ? CLOSED_GOP : 0) |
        (p.progressiveFrame ? PROGRESSIVE_FRAME : 0) |
        (p.topFieldFirst ? TOP_FIELD_FIRST : 0),
    );
    packets.order.push(p.temporalReference);
    packets.span.push(p.fields);
  };
}
