/**
 * One pass over an MPEG transport stream at open (mpeg-ts-input.ts): the file is read in
 * windows, the payloads of the PIDs kept taken out of their transport packets and PES packets
 * (mpeg-ts-packets.ts), and each PID's elementary bytes cut into pictures or audio frames
 * (mpeg-video-es.ts, mpeg-audio-es.ts) as they go by, as the program-stream scan does
 * (mpeg-ps-scan.ts, whose tables it fills). What is kept of each picture or frame is where it
 * is in the file: the transport packet its first byte is in, how far after that packet's sync
 * byte it starts, and where the packet holding its last byte ends. Nothing is kept per transport
 * or PES packet beyond the few a picture spans while it is being gathered.
 */
import { AudioFrameSplitter } from './mpeg-audio-es.ts';
import { PsPackets, recordPicture, type ScannedStream, type StreamKind } from './mpeg-ps-scan.ts';
import {
  nextPacket,
  packetPid,
  payloadAt,
  PesPayload,
  TS_PACKET,
  unitStart,
} from './mpeg-ts-packets.ts';
import { MpegVideoSplitter } from './mpeg-video-es.ts';

/**
 * The recent transport packets of one PID that carried elementary-stream bytes: where each one's
 * bytes are in the stream and in the file, and the PES packet they belong to, so that a picture
 * or frame found in the stream's bytes can be placed. Packets before what the splitter may
 * still hand out are dropped as it goes (columns of numbers, no object per packet).
 */
class TsLog {
  private cap = 1024;
  private es = new Float64Array(this.cap);
  private sync = new Float64Array(this.cap);
  private skip = new Uint8Array(this.cap);
  private pesEs = new Float64Array(this.cap);
  private pesPts = new Float64Array(this.cap);
  private head = 0;
  private count = 0;
  /** The PES packet (by where its payload starts) whose PTS was given last. */
  private usedPes = -1;

  add(es: number, sync: number, skip: number, pesEs: number, pesPts: number): void {
    if (this.count === this.cap) this.grow();
    const k = this.count++;
    this.es[k] = es;
    this.sync[k] = sync;
    this.skip[k] = skip;
    this.pesEs[k] = pesEs;
    this.pesPts[k] = pesPts;
  }

  private grow(): void {
    const n = this.count - this.head;
    if (this.head > 0 && n < this.cap / 2) {
      for (const a of [this.es, this.sync, this.skip, this.pesEs, this.pesPts]) {
        a.copyWithin(0, this.head, this.count);
      }
    } else {
      this.cap *= 2;
      const more = <A extends Float64Array | Uint8Array>(a: A, make: (n: number) => A): A => {
        const b = make(this.cap);
        b.set(a.subarray(this.head, this.count));
        return b;
      };
      this.es = more(this.es, (n) => new Float64Array(n));
      this.sync = more(this.sync, (n) => new Float64Array(n));
      this.skip = more(this.skip, (n) => new Uint8Array(n));
      this.pesEs = more(this.pesEs, (n) => new Float64Array(n));
      this.pesPts = more(this.pesPts, (n) => new Float64Array(n));
    }
    this.count = n;
    this.head = 0;
  }

  /** Index of the packet whose bytes hold stream offset `at`. */
  private find(at: number): number {
    let lo = this.head;
    let hi = this.count - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.es[mid]! <= at) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  /** Records a picture or frame (stream bytes [start, end), its unit starting at `unitAt`). */
  place(into: PsPackets, start: number, end: number, unitAt: number): void {
    const s = this.find(start);
    const u = this.find(unitAt);
    // a PTS belongs to the first unit that starts in its PES packet (2.4.3.7)
    let pts = NaN;
    const pes = this.pesEs[u]!;
    if (pes !== this.usedPes && pes >= 0 && !Number.isNaN(this.pesPts[u]!)) {
      pts = this.pesPts[u]!;
      this.usedPes = pes;
    }
    into.fileStart.push(this.sync[s]!);
    into.skip.push(this.skip[s]! + start - this.es[s]!);
    into.fileEnd.push(this.sync[this.find(end - 1)]! + TS_PACKET);
    into.size.push(end - start);
    into.pts.push(pts);
  }

  /** Forgets the packets wholly before stream offset `from` (the last one is kept). */
  prune(from: number): void {
    const last = this.count - 1;
    while (this.head < last && this.es[this.head + 1]! <= from) this.head++;
  }
}

/** One PID being gathered. */
interface Gathered extends ScannedStream {
  readonly log: TsLog;
  readonly pes: PesPayload;
  es: number;
  /** Its transport packets, and how many of them are scrambled. */
  seen: number;
  scrambled: number;
  /** Payloads not yet handed to the splitter (one call for many packets: fewer copies). */
  readonly batch: Uint8Array;
  batched: number;
  /** The current PES packet: where its payload starts in the stream (-1: none yet), its PTS. */
  pesEs: number;
  pesPts: number;
}

export interface TsScan {
  /** The PIDs asked for, in that order. */
  readonly streams: ScannedStream[];
  /** The file ends inside a transport packet or a picture (a recording cut short). */
  readonly cut: boolean;
  /** Bytes passed over between packets (lost sync: damage). */
  readonly skipped: number;
  /** The PIDs most of whose packets are scrambled (pay TV recorded without its key). */
  readonly scrambled: ReadonlySet<number>;
}

/** What the scan reads at a time: some 11 000 packets. */
const WINDOW = 2 * 1024 * 1024;
/** Payload bytes of one PID handed to its splitter at a time. */
const BATCH = 64 * 1024;
/** 2^33: where PTS values wrap (26.5 hours at 90 kHz). */
const WRAP = 2 ** 33;

/**
 * Scans the transport stream (its first sync byte at `first`, one every `stride` bytes) for the
 * PIDs of `wanted`, each as the kind of stream it is. `mayDrop` tells from an MPEG audio stream's
 * first frame whether to stop gathering it.
 */
export async function scanTransportStream(
  blob: Blob,
  layout: { readonly first: number; readonly stride: number },
  wanted: ReadonlyMap<number, StreamKind>,
  mayDrop: (layer: number) => boolean,
): Promise<TsScan> {
  const { stride } = layout;
  const streams = new Map<number, Gathered>();
  let lastPts = NaN;
  let skipped = 0;

  const unwrap = (raw: number): number => {
    if (raw < 0) return NaN;
    if (Number.isNaN(lastPts)) return (lastPts = raw);
    const k = Math.round((lastPts - raw) / WRAP);
    return (lastPts = raw + k * WRAP);
  };

  for (const [pid, kind] of wanted) {
    const log = new TsLog();
    const packets = new PsPackets();
    const s: Gathered = {
      key: pid,
      kind,
      packets,
      firstAt: -1,
      log,
      pes: new PesPayload(),
      es: 0,
      seen: 0,
      scrambled: 0,
      batch: new Uint8Array(BATCH),
      batched: 0,
      pesEs: -1,
      pesPts: NaN,
    };
    if (kind === 'video') {
      const splitter = new MpegVideoSplitter(recordPicture(log, packets));
      Object.assign(s, { video: splitter });
    } else if (kind !== 'lpcm') {
      const splitter = new AudioFrameSplitter(kind, (start, h) => {
        // AAC leaves its ADTS header out: a packet is the raw frame
        const skip = h.adts?.headerSize ?? 0;
        log.place(packets, start + skip, start + h.size, start);
        packets.span.push(h.samples);
        if (kind === 'mpeg-audio' && packets.length === 1 && mayDrop(h.layer)) s.dropped = true;
      });
      Object.assign(s, { audio: splitter });
    }
    streams.set(pid, s);
  }

  /** Hands the PID's payloads gathered so far to its splitter. */
  const flush = (s: Gathered): void => {
    const bytes = s.batch.subarray(0, s.batched);
    s.batched = 0;
    if (s.video) {
      s.video.push(bytes);
      s.log.prune(s.video.pendingFrom);
    } else if (s.audio) {
      s.audio.push(bytes);
      s.log.prune(s.audio.pendingFrom);
    }
  };

  let window = new Uint8Array(0);
  let windowAt = 0;
  let at = layout.first;
  while (at + TS_PACKET <= blob.size) {
    let rel = at - windowAt;
    if (rel < 0 || rel + TS_PACKET > window.length) {
      windowAt = at;
      window = new Uint8Array(await blob.slice(at, Math.min(at + WINDOW, blob.size)).arrayBuffer());
      rel = 0;
    }
    const p = nextPacket(window, rel, stride);
    if (p < 0) {
      // no whole packet in the rest of the window: read on from its last bytes
      const eof = windowAt + window.length >= blob.size;
      const rest = eof ? window.length : Math.max(rel + 1, window.length - TS_PACKET);
      skipped += rest - rel;
      at = windowAt + rest;
      continue;
    }
    skipped += p - rel;
    const s = streams.get(packetPid(window, p));
    if (s && !s.dropped) {
      s.seen++;
      if (window[p + 3]! & 0xc0) s.scrambled++;
      const end = p + TS_PACKET;
      const from = s.pes.feed(window, payloadAt(window, p), end, unitStart(window, p));
      if (s.pes.headerEnded) {
        s.pesEs = s.es;
        s.pesPts = unwrap(s.pes.pts);
      }
      if (from < end) {
        if (s.firstAt < 0) Object.assign(s, { firstAt: windowAt + p });
        s.log.add(s.es, windowAt + p, from - p, s.pesEs, s.pesPts);
        if (s.batched + (end - from) > BATCH) flush(s);
        s.batch.set(window.subarray(from, end), s.batched);
        s.batched += end - from;
        s.es += end - from;
      }
    }
    at = windowAt + p + stride;
  }
  // the last packet is not all there
  let cut = at < blob.size;
  for (const s of streams.values()) {
    if (s.dropped) continue;
    flush(s);
    // a recording cut inside a picture's bytes ends with a picture whose last rows are missing
    if (s.video?.end(!cut)) cut = true;
    s.audio?.end();
  }
  const scrambled = new Set<number>();
  for (const s of streams.values()) if (s.scrambled * 2 > s.seen) scrambled.add(s.key);
  return { streams: [...streams.values()], cut, skipped, scrambled };
}
