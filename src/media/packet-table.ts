/**
 * A track's packets in decode order, as typed arrays: 21 bytes a packet instead of an object
 * with four boxed numbers (about 60 bytes). A two-hour film with its audio has half a million
 * packets, and the table lives for the whole render.
 */
import type { EncodedSample, PacketInfo } from './types.ts';

export class PacketTable {
  readonly length: number;

  constructor(
    /** Presentation time in microseconds, edit list applied. */
    readonly timestampUs: Float64Array,
    readonly durationUs: Float64Array,
    readonly byteLength: Uint32Array,
    /** 1 for a key (sync) packet. */
    readonly key: Uint8Array,
    /**
     * Frames presented at or after this time are decoded (as references) but not shown: a file
     * cut short keeps its packets up to the cut, some of which only later frames would show.
     */
    readonly shownBeforeUs = Infinity,
  ) {
    this.length = timestampUs.length;
  }

  /** An empty table of `n` packets, to fill by index. */
  static ofLength(n: number): PacketTable {
    return new PacketTable(
      new Float64Array(n),
      new Float64Array(n),
      new Uint32Array(n),
      new Uint8Array(n),
    );
  }

  static from(packets: readonly PacketInfo[]): PacketTable {
    const table = PacketTable.ofLength(packets.length);
    packets.forEach((p, k) => table.set(k, p));
    return table;
  }

  set(k: number, p: PacketInfo): void {
    this.timestampUs[k] = p.timestampUs;
    this.durationUs[k] = p.durationUs;
    this.byteLength[k] = p.byteLength;
    this.key[k] = p.key ? 1 : 0;
  }

  /** The first `n` packets (copied), showing only frames before `shownBeforeUs`. */
  prefix(n: number, shownBeforeUs: number): PacketTable {
    return new PacketTable(
      this.timestampUs.slice(0, n),
      this.durationUs.slice(0, n),
      this.byteLength.slice(0, n),
      this.key.slice(0, n),
      shownBeforeUs,
    );
  }

  /** Packet k as an object (made on each call). */
  at(k: number): PacketInfo {
    return {
      timestampUs: this.timestampUs[k]!,
      durationUs: this.durationUs[k]!,
      key: this.key[k] === 1,
      byteLength: this.byteLength[k]!,
    };
  }
}

/** Collects packets when their number is not known in advance (grows by doubling). */
export class PacketTableBuilder {
  private table = PacketTable.ofLength(1024);
  private count = 0;

  push(p: PacketInfo): void {
    if (this.count === this.table.length) {
      const bigger = PacketTable.ofLength(this.table.length * 2);
      bigger.timestampUs.set(this.table.timestampUs);
      bigger.durationUs.set(this.table.durationUs);
      bigger.byteLength.set(this.table.byteLength);
      bigger.key.set(this.table.key);
      this.table = bigger;
    }
    this.table.set(this.count++, p);
  }

  /** The packets pushed so far, in a table of exactly that length (copied once). */
  build(): PacketTable {
    return this.table.prefix(this.count, Infinity);
  }
}

/** Where a track's packets are in its file, with the table of what they are. */
export interface LocatedPackets {
  /** Byte offset of packet k in the file (Float64: files may pass 4 GiB). */
  readonly offsets: Float64Array;
  readonly sizes: Uint32Array;
  readonly packets: PacketTable;
  /** Turns a packet's bytes into what the track says it holds (audio-to-s16.ts), if they differ. */
  readonly convert?: (data: Uint8Array<ArrayBuffer>) => Uint8Array<ArrayBuffer>;
}

/** The most one read of neighbouring packets spans. */
const READ_SPAN = 1024 * 1024;

/**
 * Packets [from, to) with their bytes, read from `blob` as they are asked for: neighbouring
 * packets in one read (the other tracks' bytes between them ride along). Every packet must be
 * inside the file (the readers trim their tables at open).
 */
export async function* readLocated(
  blob: Blob,
  { offsets, sizes, packets, convert }: LocatedPackets,
  from: number,
  to: number,
): AsyncGenerator<EncodedSample> {
  let i = from;
  while (i < to) {
    const start = offsets[i]!;
    let j = i + 1;
    let end = start + sizes[i]!;
    while (j < to) {
      const e = Math.max(end, offsets[j]! + sizes[j]!);
      if (offsets[j]! < start || e - start > READ_SPAN) break;
      end = e;
      j++;
    }
    const bytes = new Uint8Array(await blob.slice(start, end).arrayBuffer());
    for (let k = i; k < j; k++) {
      const at = offsets[k]! - start;
      const data = bytes.slice(at, at + sizes[k]!);
      yield {
        timestampUs: packets.timestampUs[k]!,
        durationUs: packets.durationUs[k]!,
        key: packets.key[k] === 1,
        byteLength: convert ? packets.byteLength[k]! : sizes[k]!,
        index: k,
        data: convert ? convert(data) : data,
      };
    }
    i = j;
  }
}
