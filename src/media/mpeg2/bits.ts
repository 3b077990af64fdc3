/**
 * A big-endian bit reader over one coded picture, and the start-code search of MPEG video
 * (ISO/IEC 13818-2 5.3, 11172-2 2.4.3). The bytes are copied into a buffer the reader keeps,
 * padded with zeros, so a read past the end gives zeros (a damaged slice then fails its VLC
 * look-up) and no read falls off the array.
 */

/** Zero bytes after the data: a 32-bit peek at the last bit stays inside the buffer. */
const PAD = 8;

export class BitReader {
  private buffer = new Uint8Array(64 * 1024);
  private end = 0;
  /** Bit position from the start of the data. */
  pos = 0;

  /** Takes `data` (copied into the reader's own buffer, which grows as needed) and rewinds. */
  load(data: Uint8Array): void {
    if (data.length + PAD > this.buffer.length) {
      this.buffer = new Uint8Array((data.length + PAD) * 2);
    }
    this.buffer.set(data);
    this.buffer.fill(0, data.length, data.length + PAD);
    this.end = data.length;
    this.pos = 0;
  }

  /** Bytes loaded. */
  get length(): number {
    return this.end;
  }

  /** Whether the position is past the data. */
  get exhausted(): boolean {
    return this.pos >= this.end * 8;
  }

  /** The next `n` bits (1..25) without moving. */
  peek(n: number): number {
    const b = this.buffer;
    const p = this.pos >>> 3;
    const word = ((b[p]! << 24) | (b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!) >>> 0;
    return ((word << (this.pos & 7)) >>> 0) >>> (32 - n);
  }

  skip(n: number): void {
    this.pos += n;
  }

  /** The next `n` bits (1..25). */
  read(n: number): number {
    const v = this.peek(n);
    this.pos += n;
    return v;
  }

  bit(): number {
    const v = (this.buffer[this.pos >>> 3]! >>> (7 - (this.pos & 7))) & 1;
    this.pos++;
    return v;
  }

  /**
   * Moves to the byte after the next start code prefix (00 00 01) at or after the current
   * byte-aligned position and returns the start code's value byte, or -1 at the end.
   */
  nextStartCode(): number {
    const b = this.buffer;
    let p = (this.pos + 7) >>> 3;
    const last = this.end - 4;
    while (p <= last) {
      if (b[p + 2]! > 1) p += 3;
      else if (b[p] === 0 && b[p + 1] === 0 && b[p + 2] === 1) {
        this.pos = (p + 4) * 8;
        return b[p + 3]!;
      } else p++;
    }
    this.pos = this.end * 8;
    return -1;
  }
}
