/**
 * The pack layer of an MPEG program stream (ISO/IEC 11172-1, 13818-1 2.5): pack headers (MPEG-1
 * and MPEG-2), system headers and PES packets, read unit by unit from a window of the file.
 * Both the scan at open (mpeg-ps.ts) and the reading of a packet's bytes go through `unitAt`, so
 * they agree on where every payload is. Between units a damaged stretch (or a VCD's sector
 * headers, in a .dat file) is passed over to the next system start code.
 */

/** Private stream 1 (DVD audio, subpictures): its first payload byte is a substream id. */
export const PRIVATE_1 = 0xbd;

/** A stream's key: the PES stream id, or 0x100 + the substream id of private stream 1. */
export type StreamKey = number;

export interface PsUnit {
  /** 'pes' for a PES packet; 'other' for a pack or system header, 'end' for the end code. */
  readonly kind: 'pes' | 'other' | 'end';
  /** Offset in the window after the unit. */
  readonly next: number;
  /** The PES packet's stream (0 for other units). */
  readonly stream: StreamKey;
  /** Where its elementary-stream bytes are in the window (after any substream header). */
  readonly payloadAt: number;
  readonly payloadEnd: number;
  /** PTS in 90 kHz ticks (33 bits, as stored), or -1. */
  readonly pts: number;
  /** The unit runs past the end of the file: `payloadEnd` is where the file ends. */
  readonly cut: boolean;
}

/** Stream ids whose PES packets have no header fields after the length (13818-1 2.4.3.7). */
const BARE = new Set([0xbc, 0xbe, 0xbf, 0xf0, 0xf1, 0xf2, 0xf8, 0xff]);

/** A 33-bit PTS or DTS from its five bytes. */
function timestamp(b: Uint8Array, at: number): number {
  return (
    ((b[at]! >> 1) & 7) * 2 ** 30 +
    ((b[at + 1]! << 22) | ((b[at + 2]! >> 1) << 15) | (b[at + 3]! << 7) | (b[at + 4]! >> 1))
  );
}

/** Bytes of a private stream 1 substream's own header, its id included. */
export function substreamHeader(id: number): number {
  if (id >= 0xa0 && id <= 0xa7) return 7; // LPCM: frames, pointer, then 3 bytes of format
  if (id >= 0x20 && id <= 0x3f) return 1; // subpictures
  return 4; // AC-3, DTS (and others): the id, a frame count and a first-frame pointer
}

/** Whether `code` (the byte after 00 00 01) starts a unit of the pack layer. */
const isSystem = (code: number): boolean => code >= 0xb9;

/**
 * The next system start code at or after `at` in `b`, or -1 (a start code's first bytes may
 * stand at the very end: the caller reads on from there).
 */
export function nextSystemCode(b: Uint8Array, at: number): number {
  let i = at;
  for (;;) {
    const one = b.indexOf(1, i + 2);
    if (one < 0 || one + 1 >= b.length) return -1;
    if (b[one - 1] === 0 && b[one - 2] === 0 && isSystem(b[one + 1]!)) return one - 2;
    i = one - 1;
  }
}

/**
 * The unit starting at `b[at]` (a system start code must be there), or null when its bytes are
 * not all in the window and `eof` is false (the caller reads a window starting there).
 */
export function unitAt(b: Uint8Array, at: number, eof: boolean): PsUnit | null {
  const more = (need: number): boolean => at + need > b.length && !eof;
  if (more(6)) return null;
  const code = b[at + 3]!;
  const other = (next: number): PsUnit => ({
    kind: code === 0xb9 ? 'end' : 'other',
    next,
    stream: 0,
    payloadAt: next,
    payloadEnd: next,
    pts: -1,
    cut: next > b.length,
  });
  if (code === 0xb9) return other(at + 4);
  if (code === 0xba) {
    // MPEG-2 packs are 14 bytes and stuffing; MPEG-1 packs ('0010' first) 12
    if (more(14)) return null;
    const mpeg2 = (b[at + 4]! & 0xc0) === 0x40;
    return other(at + (mpeg2 ? 14 + (b[at + 13]! & 7) : 12));
  }
  const length = ((b[at + 4] ?? 0) << 8) | (b[at + 5] ?? 0);
  const end = at + 6 + length;
  if (end > b.length && !eof) return null;
  if (code === 0xbb || BARE.has(code)) return other(end);
  // a PES packet's header: MPEG-2 ('10' first), else MPEG-1's stuffing, buffer size, PTS
  let p = at + 6;
  let pts = -1;
  if ((b[p]! & 0xc0) === 0x80) {
    const flags = b[p + 1]!;
    const headerLength = b[p + 2]!;
    if (flags & 0x80) pts = timestamp(b, p + 3);
    p += 3 + headerLength;
  } else {
    while (b[p] === 0xff && p < end) p++;
    if ((b[p]! & 0xc0) === 0x40) p += 2;
    if ((b[p]! & 0xe0) === 0x20) {
      pts = timestamp(b, p);
      p += (b[p]! & 0x10) !== 0 ? 10 : 5;
    } else p++; // '0000 1111': no timestamps
  }
  let stream = code;
  const payloadEnd = Math.min(end, b.length);
  if (code === PRIVATE_1 && p < payloadEnd) {
    stream = 0x100 + b[p]!;
    p += substreamHeader(b[p]!);
  }
  return {
    kind: 'pes',
    next: end,
    stream,
    payloadAt: Math.min(p, payloadEnd),
    payloadEnd,
    pts,
    cut: end > b.length,
  };
}

/**
 * The elementary-stream bytes of `stream` in `b` from the PES packet at `at` on: `length` bytes
 * after the first `skip` (what a packet of the scan is). Null when the window runs out first.
 */
export function extract(
  b: Uint8Array,
  at: number,
  stream: StreamKey,
  skip: number,
  length: number,
  eof: boolean,
): Uint8Array<ArrayBuffer> | null {
  const out = new Uint8Array(length);
  let n = 0;
  let skipped = 0;
  let p = at;
  while (n < length) {
    if (!(b[p] === 0 && b[p + 1] === 0 && b[p + 2] === 1 && isSystem(b[p + 3] ?? 0))) {
      p = nextSystemCode(b, p);
      if (p < 0) return null;
    }
    const unit = unitAt(b, p, eof);
    // (an end code between two joined files is passed as the scan passes it)
    if (!unit) return null;
    if (unit.kind === 'pes' && unit.stream === stream) {
      let from = unit.payloadAt;
      if (skipped < skip) {
        const s = Math.min(skip - skipped, unit.payloadEnd - from);
        skipped += s;
        from += s;
      }
      const take = Math.min(length - n, unit.payloadEnd - from);
      if (take > 0) {
        out.set(b.subarray(from, from + take), n);
        n += take;
      }
    }
    if (unit.next >= b.length && n < length) return null;
    p = unit.next;
  }
  return out;
}
