/** Presentation order, frame indices and rates from a track's packet table. */
import type { PacketTable } from './packet-table.ts';

export interface FrameTiming {
  /** Presentation timestamps (us) of the shown frames, ascending; frame index = position here. */
  readonly timestampsUs: readonly number[];
  /** For each shown frame (by index), its packet's decode-order index. */
  readonly decodeIndex: readonly number[];
  readonly durationSeconds: number;
  readonly averageFps: number;
  readonly variableFrameRate: boolean;
}

/**
 * Frames the edit list moves before t=0, and those at or after a cut file's `shownBeforeUs`, are
 * decoded (other frames may reference them) but never shown or counted.
 */
export function frameTiming(packets: PacketTable): FrameTiming {
  const ts = packets.timestampUs;
  const decodeIndex: number[] = [];
  const shownBefore = packets.shownBeforeUs;
  for (let i = 0; i < packets.length; i++) {
    if (ts[i]! >= 0 && ts[i]! < shownBefore) decodeIndex.push(i);
  }
  // ties keep decode order
  decodeIndex.sort((a, b) => ts[a]! - ts[b]! || a - b);
  const timestampsUs = decodeIndex.map((i) => ts[i]!);
  const n = decodeIndex.length;
  const durationSeconds =
    n > 0
      ? (timestampsUs[n - 1]! + packets.durationUs[decodeIndex[n - 1]!]! - timestampsUs[0]!) / 1e6
      : 0;
  const deltas: number[] = [];
  for (let k = 1; k < timestampsUs.length; k++)
    deltas.push(timestampsUs[k]! - timestampsUs[k - 1]!);
  const sorted = [...deltas].sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)] ?? 0;
  // Rounding makes constant-rate deltas differ by one step of the container's clock: 1 us in MP4
  // (1/24 s is 41666 or 41667 us), 1 ms in WebM/MKV (41 or 42 ms). The clock's step is seen in
  // the timestamps: all whole milliseconds. Real variable rate differs by far more.
  const tick = [1000, 100, 10].find((t) => timestampsUs.every((x) => x % t === 0)) ?? 1;
  const variableFrameRate = deltas.some(
    (d) => Math.abs(d - median) > Math.max(tick + 2, median * 0.02),
  );
  return {
    timestampsUs,
    decodeIndex,
    durationSeconds,
    averageFps: durationSeconds > 0 ? n / durationSeconds : 0,
    variableFrameRate,
  };
}

/** Decode-order packet range that yields shown frames [start, end): from the key packet before. */
export function decodeRangeFor(
  packets: PacketTable,
  timing: FrameTiming,
  start: number,
  end: number,
): { from: number; to: number } {
  let dmin = Infinity;
  let dmax = -1;
  for (let f = start; f < end; f++) {
    const d = timing.decodeIndex[f]!;
    dmin = Math.min(dmin, d);
    dmax = Math.max(dmax, d);
  }
  let from = dmin;
  while (from > 0 && packets.key[from] !== 1) from--;
  return { from, to: dmax + 1 };
}
