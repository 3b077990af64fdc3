/**
 * Look-up tables for the variable-length codes of vlc-tables.ts: one entry for every pattern
 * of the table's longest code length, holding the code's length and value, so one peek decodes
 * a code.
 */
import type { BitReader } from './bits.ts';
import type { Code } from './vlc-tables.ts';

export class VlcError extends Error {}

export class Vlc {
  /** Per pattern: code length in the low 5 bits, value index above; 0 for no code. */
  private readonly entries: Int32Array;
  private readonly values: Int32Array;
  readonly bits: number;

  constructor(codes: readonly Code<number>[]) {
    this.bits = Math.max(...codes.map(([c]) => c.length));
    this.entries = new Int32Array(1 << this.bits);
    this.values = Int32Array.from(codes.map(([, v]) => v));
    codes.forEach(([code, _], k) => {
      const free = this.bits - code.length;
      const first = parseInt(code, 2) << free;
      this.entries.fill((k << 5) | code.length, first, first + (1 << free));
    });
  }

  /** Reads one code and returns its value; throws VlcError on a pattern no code starts. */
  read(bits: BitReader): number {
    const e = this.entries[bits.peek(this.bits)]!;
    if (e === 0) throw new VlcError('an invalid code');
    bits.skip(e & 31);
    return this.values[e >>> 5]!;
  }
}

/** A DCT coefficient table's entry: run, level and code length packed (see `DctVlc`). */
export const DCT_EOB = -1;
export const DCT_ESCAPE = -2;

/**
 * A DCT coefficient table (B.14 or B.15): `read` returns run << 8 | level for a coefficient
 * (sign bit not read), or DCT_EOB / DCT_ESCAPE.
 */
export class DctVlc {
  private readonly entries: Int32Array;
  readonly bits: number;

  constructor(codes: readonly Code<readonly [number, number]>[]) {
    this.bits = Math.max(...codes.map(([c]) => c.length));
    this.entries = new Int32Array(1 << this.bits);
    for (const [code, [run, level]] of codes) {
      const free = this.bits - code.length;
      const first = parseInt(code, 2) << free;
      // run + 2 keeps end of block (-1) and escape (-2) above zero, which marks no code
      this.entries.fill(
        ((((run + 2) << 8) | level) << 5) | code.length,
        first,
        first + (1 << free),
      );
    }
  }

  read(bits: BitReader): number {
    const e = this.entries[bits.peek(this.bits)]!;
    if (e === 0) throw new VlcError('an invalid DCT coefficient code');
    bits.skip(e & 31);
    const run = (e >>> 13) - 2;
    return run < 0 ? run : (run << 8) | ((e >>> 5) & 255);
  }
}
