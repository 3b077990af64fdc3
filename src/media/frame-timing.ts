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
  const measured = durationSeconds > 0 ? n / durationSeconds : 0;
  const nominal = variableFrameRate ? null : nominalRate(timestampsUs, tick);
  return {
    timestampsUs,
    decodeIndex,
    durationSeconds,
    averageFps: nominal ?? measured,
    variableFrameRate,
  };
}

/** Rates cameras, editors and broadcast use (NTSC's as their exact fractions). */
const NOMINAL_RATES = [
  10,
  12,
  12.5,
  15,
  20,
  24000 / 1001,
  24,
  25,
  30000 / 1001,
  30,
  48,
  50,
  60000 / 1001,
  60,
  72,
  90,
  96,
  100,
  120000 / 1001,
  120,
  144,
  240,
];

/**
 * The nominal rate of a constant-rate track, when exactly one fits its timestamps: a WebM/MKV
 * clock in milliseconds makes 24 fps measure as 24.01 (1/24 s is stored as 41 or 42 ms), which
 * a person does not recognise as their 24 fps clip. Each timestamp is off by at most half a
 * clock step, so the frame period lies within one step over the span of the first to the last
 * frame. Null when no listed rate or more than one fits (too few frames to tell).
 */
export function nominalRate(timestampsUs: readonly number[], tickUs: number): number | null {
  const gaps = timestampsUs.length - 1;
  if (gaps < 1) return null;
  const span = timestampsUs[gaps]! - timestampsUs[0]!;
  const shortest = (span - tickUs) / gaps;
  const longest = (span + tickUs) / gaps;
  const fits = NOMINAL_RATES.filter((r) => 1e6 / r >= shortest && 1e6 / r <= longest);
  return fits.length === 1 ? fits[0]! : null;
}

/**
 * Decode-order packet range that yields shown frames [start, end): from the key packet before,
 * or the one before that when a frame of the range is decoded after that key but shown before
 * it (the first B-frames of an open GOP, in MPEG-2 and broadcast H.264: they predict from the
 * GOP before too).
 */
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
  const leading = (): boolean => {
    for (let f = start; f < end; f++) {
      const d = timing.decodeIndex[f]!;
      if (d > from && packets.timestampUs[d]! < packets.timestampUs[from]!) return true;
    }
    return false;
  };
  if (from > 0 && leading()) {
    from--;
    while (from > 0 && packets.key[from] !== 1) from--;
  }
  return { from, to: dmax + 1 };
}
