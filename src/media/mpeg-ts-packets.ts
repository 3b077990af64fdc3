/**
 * The packet layer of an MPEG transport stream (ISO/IEC 13818-1 2.4.3): 188-byte packets (204
 * with error correction after them, 192 with a 4-byte time code before them, as M2TS has), each
 * carrying a piece of one PID's PES packets. Both the scan at open (mpeg-ts-scan.ts) and the
 * reading of a picture or audio frame again go through `nextPacket` and `PesPayload`, so they
 * agree on where every elementary-stream byte is.
 */

/** Bytes of a transport packet from its sync byte (what follows in a 204-byte one is not read). */
export const TS_PACKET = 188;
const SYNC = 0x47;

/**
 * The sync byte of the packet at or after `at` in `b`: `at` itself when a sync byte is there,
 * else the first place where one is followed by another a stride on (damage, a lost byte), or -1
 * when the window has no whole packet left.
 */
export function nextPacket(b: Uint8Array, at: number, stride: number): number {
  if (at + TS_PACKET > b.length) return -1;
  if (b[at] === SYNC) return at;
  for (let q = b.indexOf(SYNC, at + 1); q >= 0; q = b.indexOf(SYNC, q + 1)) {
    if (q + TS_PACKET > b.length) return -1;
    if (q + stride >= b.length || b[q + stride] === SYNC) return q;
  }
  return -1;
}

/** The PID of the packet at `at`. */
export function packetPid(b: Uint8Array, at: number): number {
  return ((b[at + 1]! & 0x1f) << 8) | b[at + 2]!;
}

/** Whether a PES packet (or a section) starts in the packet at `at` (payload_unit_start). */
export function unitStart(b: Uint8Array, at: number): boolean {
  return (b[at + 1]! & 0x40) !== 0;
}

/** Where the packet's payload starts (after its adaptation field); `at + 188` when it has none. */
export function payloadAt(b: Uint8Array, at: number): number {
  const control = (b[at + 3]! >> 4) & 3;
  if ((control & 1) === 0) return at + TS_PACKET;
  const from = control & 2 ? at + 5 + b[at + 4]! : at + 4;
  return Math.min(from, at + TS_PACKET);
}

/** A PES header is at most 9 bytes and 255 of optional fields. */
const MAX_HEADER = 9 + 255;

/**
 * One PID's PES packets as its transport packets arrive: each packet's payload is PES header
 * bytes (a header may run over into the next packet of the PID) and then elementary-stream bytes.
 * A PES packet whose header is not one (damage) gives no bytes until the next one starts.
 */
export class PesPayload {
  private readonly head = new Uint8Array(MAX_HEADER);
  /** Header bytes gathered, or -1 outside a header. */
  private have = -1;
  /** Header bytes the current header has (9 until its length is read). */
  private need = 9;
  private dropping = false;
  /** After `feed`: whether a PES header ended in that packet, and its PTS (33 bits) or -1. */
  headerEnded = false;
  pts = -1;

  /**
   * The transport packet's payload `b[from, to)`, a PES packet starting at `from` when `start`:
   * returns where its elementary-stream bytes start (`to` when it has none).
   */
  feed(b: Uint8Array, from: number, to: number, start: boolean): number {
    this.headerEnded = false;
    if (start) {
      this.have = 0;
      this.need = 9;
      this.dropping = false;
    }
    if (this.dropping) return to;
    if (this.have < 0) return from;
    let p = from;
    while (p < to && this.have < this.need) {
      this.head[this.have++] = b[p++]!;
      if (this.have === 9) {
        const h = this.head;
        if (h[0] !== 0 || h[1] !== 0 || h[2] !== 1 || (h[6]! & 0xc0) !== 0x80) {
          this.dropping = true;
          this.have = -1;
          return to;
        }
        this.need = 9 + h[8]!;
      }
    }
    if (this.have < this.need) return to;
    const h = this.head;
    this.pts =
      h[7]! & 0x80 && this.need >= 14
        ? ((h[9]! >> 1) & 7) * 2 ** 30 +
          ((h[10]! << 22) | ((h[11]! >> 1) << 15) | (h[12]! << 7) | (h[13]! >> 1))
        : -1;
    this.headerEnded = true;
    this.have = -1;
    return p;
  }
}

/**
 * The elementary-stream bytes of `pid` from the transport packet whose sync byte is at `b[at]`
 * on: `length` bytes, the first `skip` bytes after that sync byte passed over (what a packet of
 * the scan is). Null when the window runs out first.
 */
export function extractTs(
  b: Uint8Array,
  at: number,
  pid: number,
  skip: number,
  length: number,
  stride: number,
): Uint8Array<ArrayBuffer> | null {
  const out = new Uint8Array(length);
  const pes = new PesPayload();
  let n = Math.min(length, TS_PACKET - skip);
  if (n < 0 || at + skip + n > b.length) return null;
  out.set(b.subarray(at + skip, at + skip + n));
  let p = at + stride;
  while (n < length) {
    p = nextPacket(b, p, stride);
    if (p < 0) return null;
    if (packetPid(b, p) === pid) {
      const end = p + TS_PACKET;
      const from = pes.feed(b, payloadAt(b, p), end, unitStart(b, p));
      const take = Math.min(length - n, end - from);
      if (take > 0) {
        out.set(b.subarray(from, from + take), n);
        n += take;
      }
    }
    p += stride;
  }
  return out;
}
