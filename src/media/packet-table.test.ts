import { describe, expect, it } from 'vitest';
import { decodeRangeFor, frameTiming, nominalRate } from './frame-timing.ts';
import { PacketTable, PacketTableBuilder } from './packet-table.ts';
import type { PacketInfo } from './types.ts';

const packet = (k: number): PacketInfo => ({
  // past 2^31 us (36 min): the values a long film reaches, beyond a 32-bit integer
  timestampUs: 3e9 + k * 41708,
  durationUs: 41708 + (k % 3),
  key: k % 48 === 0,
  byteLength: 1000 + k,
});

describe('PacketTable', () => {
  it('keeps every field of every packet, past the builder growing its arrays', () => {
    const builder = new PacketTableBuilder();
    const n = 5000;
    for (let k = 0; k < n; k++) builder.push(packet(k));
    const table = builder.build();
    expect(table.length).toBe(n);
    expect(table.timestampUs.length).toBe(n);
    for (const k of [0, 1, 1023, 1024, 2047, 2048, 4999]) expect(table.at(k)).toEqual(packet(k));
    expect(PacketTable.from([packet(7), packet(8)]).at(1)).toEqual(packet(8));
    expect(new PacketTableBuilder().build().length).toBe(0);
  });

  it('frame timing sorts by presentation time, ties in decode order, and drops frames before 0', () => {
    // decode order I P B B with B-frames, plus one frame the edit list moved before 0
    const table = PacketTable.from([
      { timestampUs: -40000, durationUs: 40000, key: true, byteLength: 1 },
      { timestampUs: 0, durationUs: 40000, key: true, byteLength: 1 },
      { timestampUs: 120000, durationUs: 40000, key: false, byteLength: 1 },
      { timestampUs: 40000, durationUs: 40000, key: false, byteLength: 1 },
      { timestampUs: 80000, durationUs: 40000, key: false, byteLength: 1 },
      { timestampUs: 80000, durationUs: 40000, key: false, byteLength: 1 },
      { timestampUs: 160000, durationUs: 50000, key: true, byteLength: 1 },
    ]);
    const timing = frameTiming(table);
    expect(timing.timestampsUs).toEqual([0, 40000, 80000, 80000, 120000, 160000]);
    expect(timing.decodeIndex).toEqual([1, 3, 4, 5, 2, 6]);
    expect(timing.durationSeconds).toBeCloseTo(0.21, 9);
    // frames 1-2 need packets 3-4 and the key packet before them (1)
    expect(decodeRangeFor(table, timing, 1, 3)).toEqual({ from: 1, to: 5 });
    expect(decodeRangeFor(table, timing, 5, 6)).toEqual({ from: 6, to: 7 });
  });

  it('frames an open GOP shows before its key frame are decoded from the GOP before', () => {
    // decode order I0 P3 B1 B2 | I6 B4 B5 P9 B7 B8: B4 and B5 predict from P3 too
    const shown = [0, 3, 1, 2, 6, 4, 5, 9, 7, 8];
    const table = PacketTable.from(
      shown.map((n, k) => ({
        timestampUs: n * 40_000,
        durationUs: 40_000,
        key: k % 4 === 0 && k < 8,
        byteLength: 1,
      })),
    );
    const timing = frameTiming(table);
    expect(decodeRangeFor(table, timing, 4, 5)).toEqual({ from: 0, to: 6 });
    expect(decodeRangeFor(table, timing, 6, 8)).toEqual({ from: 4, to: 9 });
  });

  it('constant rate stays constant through a millisecond clock; a real change of rate is variable', () => {
    const table = (times: number[]): PacketTable => {
      const b = new PacketTableBuilder();
      for (const t of times) b.push({ timestampUs: t, durationUs: 0, key: false, byteLength: 1 });
      return b.build();
    };
    // 24 fps as WebM stores it (whole milliseconds: 41 or 42 ms apart), and as MP4 does (us)
    const webm24 = Array.from({ length: 48 }, (_, k) => Math.round((k * 1000) / 24) * 1000);
    const mp424 = Array.from({ length: 48 }, (_, k) => Math.round((k * 1e6) / 24));
    expect(frameTiming(table(webm24)).variableFrameRate).toBe(false);
    expect(frameTiming(table(mp424)).variableFrameRate).toBe(false);
    // 30 fps in whole milliseconds (33 or 34 ms apart)
    const webm30 = Array.from({ length: 60 }, (_, k) => Math.round((k * 1000) / 30) * 1000);
    expect(frameTiming(table(webm30)).variableFrameRate).toBe(false);
    // a phone clip that drops from 30 to 24 fps half-way, in either clock
    const change = (roundTo: number): number[] =>
      Array.from({ length: 60 }, (_, k) =>
        k < 30 ? (k * 1e6) / 30 : 1e6 + ((k - 30) * 1e6) / 24,
      ).map((t) => Math.round(t / roundTo) * roundTo);
    expect(frameTiming(table(change(1000))).variableFrameRate).toBe(true);
    expect(frameTiming(table(change(1))).variableFrameRate).toBe(true);
    // one frame 2 ms late at 24 fps in microseconds: the rate is not constant
    const late = mp424.map((t, k) => (k === 20 ? t + 2000 : t));
    expect(frameTiming(table(late)).variableFrameRate).toBe(true);
  });

  it('a constant rate is said as its nominal rate where the clock rounds it (24, not 24.01)', () => {
    const ms = (fps: number, n: number): number[] =>
      Array.from({ length: n }, (_, k) => Math.round((k * 1000) / fps) * 1000);
    const us = (fps: number, n: number): number[] =>
      Array.from({ length: n }, (_, k) => Math.round((k * 1e6) / fps));
    // a second of 24 fps in MKV spans 958 ms: measured, 24.01 fps
    expect(nominalRate(ms(24, 24), 1000)).toBe(24);
    expect(nominalRate(ms(30000 / 1001, 300), 1000)).toBeCloseTo(29.97, 2);
    expect(nominalRate(ms(30, 300), 1000)).toBe(30);
    expect(nominalRate(ms(25, 50), 1000)).toBe(25);
    expect(nominalRate(us(24000 / 1001, 48), 1)).toBeCloseTo(23.976, 3);
    // too few frames to tell 29.97 from 30: no guess
    expect(nominalRate(ms(30, 10), 1000)).toBeNull();
    // a rate that is not a camera's is left as measured
    expect(nominalRate(us(23, 48), 1)).toBeNull();
    const table = (times: number[]): PacketTable => {
      const b = new PacketTableBuilder();
      for (const t of times)
        b.push({ timestampUs: t, durationUs: 42000, key: true, byteLength: 1 });
      return b.build();
    };
    expect(frameTiming(table(ms(24, 24))).averageFps).toBe(24);
    expect(frameTiming(table(us(23, 48))).averageFps).toBeCloseTo(
      48e6 / (us(23, 48)[47]! + 42000),
      9,
    );
  });
});
