/**
 * An MPEG-1 / MPEG-2 video elementary stream (ISO/IEC 11172-2, 13818-2) cut into coded pictures,
 * as the bytes arrive: what a program stream (mpeg-ps.ts) or a transport stream carries in its
 * video packets. Each picture's bytes run from the sequence header or GOP header that precedes
 * it (those stay with the picture that follows them) through its picture header, extensions and
 * slices, up to the next picture, GOP or sequence header start code; a sequence end code belongs
 * to no picture. Two field pictures of one frame are one picture here (a decoder takes a frame).
 *
 * The splitter reads what the container's timing needs: each picture's coding type, temporal
 * reference and how many fields it shows (repeat_first_field), and the first sequence header
 * (size, frame rate, aspect, colour) with its bytes, which the decoder takes as its description.
 */
import { FRAME_RATES } from './mpeg2/headers.ts';

/** What the first sequence header (and its extensions) says of the stream. */
export interface SequenceInfo {
  /** A sequence_extension follows the header: MPEG-2 (else MPEG-1). */
  readonly mpeg2: boolean;
  readonly width: number;
  readonly height: number;
  /** Frames a second as a fraction (25/1, 30000/1001). */
  readonly rateNum: number;
  readonly rateDen: number;
  /** aspect_ratio_information (MPEG-2: a display aspect code; MPEG-1: a pel aspect code). */
  readonly aspectCode: number;
  /** sequence_display_extension's display size, when there is one. */
  readonly displayWidth: number | null;
  readonly displayHeight: number | null;
  /** colour_primaries, transfer_characteristics, matrix_coefficients, when stated. */
  readonly colour: readonly [number, number, number] | null;
  /** progressive_sequence (MPEG-1 is progressive). */
  readonly progressive: boolean;
}

/** One coded picture (a frame, or a pair of field pictures), in elementary-stream offsets. */
export interface CodedPicture {
  /** Where its bytes start (its sequence or GOP header when one precedes it). */
  readonly start: number;
  /** Where they end (exclusive). */
  readonly end: number;
  /** Where its (first) picture start code is: a container's timestamp belongs to it. */
  readonly pictureAt: number;
  /** picture_coding_type: 1 I, 2 P, 3 B, 4 D (MPEG-1). */
  readonly type: number;
  readonly temporalReference: number;
  /** A sequence header precedes it. */
  readonly sequenceHeader: boolean;
  /** A GOP header precedes it (temporal references count from 0 again). */
  readonly gop: boolean;
  /** closed_gop of that GOP header: its B-pictures need nothing before the GOP. */
  readonly closedGop: boolean;
  /** Fields it is shown for: 2, 3 with repeat_first_field, 4 or 6 in a progressive sequence. */
  readonly fields: number;
  /** MPEG-2 picture coding extension: whether its top field comes first / it is progressive. */
  readonly topFieldFirst: boolean;
  readonly progressiveFrame: boolean;
}

const SEQUENCE_HEADER = 0xb3;
const SEQUENCE_END = 0xb7;
const GOP = 0xb8;
const PICTURE = 0x00;
const EXTENSION = 0xb5;

/** Bytes after a start code that must be at hand to read its header. */
function headerBytes(code: number): number {
  if (code === SEQUENCE_HEADER || code === EXTENSION) return 8;
  if (code === PICTURE || code === GOP) return 4;
  return 0;
}

/** The most bytes the first sequence header and its extensions may take (the description). */
const MAX_DESCRIPTION = 64 * 1024;

interface OpenPicture {
  start: number;
  pictureAt: number;
  type: number;
  temporalReference: number;
  sequenceHeader: boolean;
  gop: boolean;
  closedGop: boolean;
  /** picture_structure: 3 a frame, 1 top field, 2 bottom field. */
  structure: number;
  /** The macroblock row of its last slice so far (a slice start code's value, less one). */
  lastRow: number;
  topFieldFirst: boolean;
  repeatFirstField: boolean;
  progressiveFrame: boolean;
}

export class MpegVideoSplitter {
  /** Bytes pushed and not yet scanned past (a start code whose header is still to come). */
  private carry: Uint8Array = new Uint8Array(0);
  /** Elementary-stream offset of the next byte pushed. */
  private total = 0;
  /** Where the headers of the picture being gathered start (-1: none since the last picture). */
  private unitStart = -1;
  private sawSequence = false;
  private sawGop = false;
  private closedGop = false;
  private open: OpenPicture | null = null;
  /** A first field picture waiting for its second field. */
  private firstField: (OpenPicture & { end: number }) | null = null;
  /** Which header the last extension start code follows. */
  private after: 'sequence' | 'picture' | 'other' = 'other';
  private seq: {
    width: number;
    height: number;
    aspectCode: number;
    rateCode: number;
    mpeg2: boolean;
    progressive: boolean;
    rateExt: [number, number];
    display: [number, number] | null;
    colour: [number, number, number] | null;
  } | null = null;
  /** The first sequence header's bytes, gathered until the GOP or picture after it. */
  private description: Uint8Array | null = null;
  private capture: { from: number; parts: Uint8Array[]; length: number } | null = null;

  constructor(private readonly onPicture: (picture: CodedPicture) => void) {}

  /** The first sequence header's facts, once it has been read. */
  get sequence(): SequenceInfo | null {
    const s = this.seq;
    if (!s) return null;
    const [num, den] = FRAME_RATES[s.rateCode] ?? [0, 1];
    return {
      mpeg2: s.mpeg2,
      width: s.width,
      height: s.height,
      rateNum: num * (s.rateExt[0] + 1),
      rateDen: den * (s.rateExt[1] + 1),
      aspectCode: s.aspectCode,
      displayWidth: s.display?.[0] ?? null,
      displayHeight: s.display?.[1] ?? null,
      colour: s.colour,
      progressive: !s.mpeg2 || s.progressive,
    };
  }

  /**
   * The first sequence header from its start code through its extensions, up to the GOP or
   * picture after it: what the decoder is configured with. Null until that start code is seen.
   */
  get sequenceBytes(): Uint8Array | null {
    return this.description;
  }

  /** The earliest stream offset a picture not yet handed out may start at. */
  get pendingFrom(): number {
    let from = this.total - this.carry.length;
    if (this.unitStart >= 0) from = Math.min(from, this.unitStart);
    if (this.open) from = Math.min(from, this.open.start);
    if (this.firstField) from = Math.min(from, this.firstField.start);
    return from;
  }

  /** The next bytes of the stream. */
  push(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    const base = this.total - this.carry.length;
    let work = chunk;
    if (this.carry.length > 0) {
      work = new Uint8Array(this.carry.length + chunk.length);
      work.set(this.carry);
      work.set(chunk, this.carry.length);
    }
    if (this.capture) this.gather(chunk);
    this.total += chunk.length;
    let i = 0;
    let keepFrom = Math.max(0, work.length - 3);
    for (;;) {
      const one = work.indexOf(1, i + 2);
      if (one < 0) break;
      if (work[one - 1] !== 0 || work[one - 2] !== 0) {
        i = one - 1;
        continue;
      }
      const p = one - 2;
      if (p + 4 + headerBytes(work[p + 3] ?? 0) > work.length || p + 3 >= work.length) {
        keepFrom = p;
        break;
      }
      this.startCode(work, p, base + p, work.length - p);
      i = p + 3;
    }
    this.carry = work.slice(keepFrom);
  }

  /**
   * The stream ends: the picture being gathered is handed out when `whole` (the container's last
   * bytes are all there) and its slices reach its last row of macroblocks (MPEG-2), else left
   * out, as is a first field without its second. Returns whether a picture was left out.
   */
  end(whole: boolean): boolean {
    const o = this.open;
    const complete = o !== null && whole && o.lastRow >= this.lastRow(o.structure);
    if (complete) this.close(this.total);
    const lost = (o !== null && !complete) || this.firstField !== null;
    this.open = null;
    this.firstField = null;
    this.carry = new Uint8Array(0);
    return lost;
  }

  /**
   * The row of macroblocks a picture's last slice starts on: its last row in MPEG-2, where a
   * slice stays in one row (a field has half the rows of a frame); any in MPEG-1, whose slices
   * may run on over rows.
   */
  private lastRow(structure: number): number {
    const s = this.sequence;
    if (!s?.mpeg2) return 0;
    const frameRows = s.progressive ? Math.ceil(s.height / 16) : 2 * Math.ceil(s.height / 32);
    return (structure === 3 ? frameRows : frameRows / 2) - 1;
  }

  /** Adds the pushed bytes to the description being gathered. */
  private gather(chunk: Uint8Array): void {
    const c = this.capture!;
    c.parts.push(chunk.slice());
    c.length += chunk.length;
    if (c.length > MAX_DESCRIPTION) this.capture = null;
  }

  /** The description ends at stream offset `at`. */
  private endCapture(at: number): void {
    const c = this.capture;
    if (!c) return;
    this.capture = null;
    const all = new Uint8Array(c.length);
    let n = 0;
    for (const p of c.parts) {
      all.set(p, n);
      n += p.length;
    }
    this.description = all.slice(0, at - c.from);
  }

  private startCode(b: Uint8Array, p: number, at: number, left: number): void {
    const code = b[p + 3]!;
    const h = p + 4;
    if (code === PICTURE || code === GOP || code === SEQUENCE_HEADER || code === SEQUENCE_END) {
      if (this.open) this.close(at);
      if (code !== SEQUENCE_HEADER) this.endCapture(at);
    }
    if (code === SEQUENCE_END) {
      this.unitStart = -1;
      this.sawSequence = this.sawGop = false;
      this.after = 'other';
      return;
    }
    if (code === SEQUENCE_HEADER) {
      if (this.unitStart < 0) this.unitStart = at;
      this.sawSequence = true;
      this.after = 'sequence';
      if (!this.seq) {
        this.seq = {
          width: (b[h]! << 4) | (b[h + 1]! >> 4),
          height: ((b[h + 1]! & 15) << 8) | b[h + 2]!,
          aspectCode: b[h + 3]! >> 4,
          rateCode: b[h + 3]! & 15,
          mpeg2: false,
          progressive: true,
          rateExt: [0, 0],
          display: null,
          colour: null,
        };
        // the bytes from this start code on (some of them were in the carry)
        this.capture = { from: at, parts: [b.slice(p, p + left)], length: left };
      } else if (this.capture) {
        this.endCapture(at);
      }
      return;
    }
    if (code === GOP) {
      if (this.unitStart < 0) this.unitStart = at;
      this.sawGop = true;
      this.closedGop = (b[h + 3]! & 0x40) !== 0;
      this.after = 'other';
      return;
    }
    if (code === PICTURE) {
      this.picture(b, h, at);
      return;
    }
    if (code === EXTENSION) {
      this.extension(b, h);
    } else if (code < 0xb0 && code > 0) {
      // a slice: the picture goes on
      if (this.open) this.open.lastRow = code - 1;
    } else if (code !== 0xb2) {
      this.after = 'other'; // (user data keeps the header it follows)
    }
  }

  private picture(b: Uint8Array, h: number, at: number): void {
    this.open = {
      start: this.unitStart >= 0 ? this.unitStart : at,
      pictureAt: at,
      type: (b[h + 1]! >> 3) & 7,
      temporalReference: (b[h]! << 2) | (b[h + 1]! >> 6),
      sequenceHeader: this.sawSequence,
      gop: this.sawGop,
      closedGop: this.sawGop && this.closedGop,
      structure: 3,
      lastRow: -1,
      topFieldFirst: true,
      repeatFirstField: false,
      progressiveFrame: true,
    };
    this.unitStart = -1;
    this.sawSequence = this.sawGop = false;
    this.after = 'picture';
  }

  private extension(b: Uint8Array, h: number): void {
    const id = b[h]! >> 4;
    const seq = this.seq;
    if (this.after === 'sequence' && seq && this.capture) {
      // the first sequence header's extensions
      if (id === 1) {
        seq.mpeg2 = true;
        seq.progressive = ((b[h + 1]! >> 3) & 1) === 1;
        seq.width |= (((b[h + 1]! & 1) << 1) | (b[h + 2]! >> 7)) << 12;
        seq.height |= ((b[h + 2]! >> 5) & 3) << 12;
        seq.rateExt = [(b[h + 5]! >> 5) & 3, b[h + 5]! & 31];
      } else if (id === 2) {
        let at = h + 1;
        if (b[h]! & 1) {
          seq.colour = [b[h + 1]!, b[h + 2]!, b[h + 3]!];
          at = h + 4;
        }
        const w = (b[at]! << 6) | (b[at + 1]! >> 2);
        const ht = ((b[at + 1]! & 1) << 13) | (b[at + 2]! << 5) | (b[at + 3]! >> 3);
        if (w > 0 && ht > 0) seq.display = [w, ht];
      }
    } else if (this.after === 'picture' && this.open && id === 8) {
      const o = this.open;
      o.structure = b[h + 2]! & 3;
      o.topFieldFirst = (b[h + 3]! & 0x80) !== 0;
      o.repeatFirstField = (b[h + 3]! & 0x02) !== 0;
      o.progressiveFrame = (b[h + 4]! & 0x80) !== 0;
    }
  }

  /** The open picture ends at `end`: handed out, or kept as a first field. */
  private close(end: number): void {
    const o = this.open!;
    this.open = null;
    const field = o.structure === 1 || o.structure === 2;
    const first = this.firstField;
    if (field && first && first.structure !== o.structure && o.start === o.pictureAt) {
      // the second field of the frame: one picture with the first
      this.firstField = null;
      this.emit({ ...first, end }, 2);
      return;
    }
    if (first) this.firstField = null; // a field without its pair is left out
    if (field) {
      this.firstField = { ...o, end };
      return;
    }
    const progressiveSequence = this.seq ? !this.seq.mpeg2 || this.seq.progressive : false;
    const fields = !o.repeatFirstField ? 2 : progressiveSequence ? (o.topFieldFirst ? 6 : 4) : 3;
    this.emit({ ...o, end }, fields);
  }

  private emit(o: OpenPicture & { end: number }, fields: number): void {
    this.onPicture({
      start: o.start,
      end: o.end,
      pictureAt: o.pictureAt,
      type: o.type,
      temporalReference: o.temporalReference,
      sequenceHeader: o.sequenceHeader,
      gop: o.gop,
      closedGop: o.closedGop,
      fields,
      topFieldFirst: o.topFieldFirst,
      progressiveFrame: o.progressiveFrame && o.structure === 3,
    });
  }
}

/**
 * Fills in the presentation times (90 kHz ticks) of pictures without one, in decode order: from
 * the last picture of its GOP that has one and the temporal references between them (each
 * picture's place in display order within its GOP), else from the end of what was shown before.
 */
export class PictureClock {
  /** Display time of temporal reference 0 in the current GOP. */
  private gopBase: number | null = null;
  /** Where the pictures so far end, in display time. */
  private shownTo = 0;

  constructor(private readonly frameTicks: number) {}

  /**
   * The time of the next picture: its temporal reference, the fields it shows, whether a GOP
   * header precedes it, and its own PTS (NaN when it has none).
   */
  next(temporalReference: number, fields: number, gop: boolean, pts: number): number {
    if (gop) this.gopBase = null;
    let at = pts;
    if (Number.isNaN(at)) {
      this.gopBase ??= this.shownTo;
      at = this.gopBase + temporalReference * this.frameTicks;
    } else {
      this.gopBase = at - temporalReference * this.frameTicks;
    }
    this.shownTo = Math.max(this.shownTo, at + (fields / 2) * this.frameTicks);
    return at;
  }
}
