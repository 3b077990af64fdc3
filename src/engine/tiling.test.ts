import { describe, expect, it } from 'vitest';
import { axisStarts, chooseTileSize, planTiles, rampWeight } from './tiling.ts';

describe('tile plans', () => {
  it('covers the axis with fixed-size tiles, overlapping at least the requested amount', () => {
    for (const [length, tile, overlap] of [
      [1920, 256, 16],
      [181, 64, 8],
      [64, 64, 8],
      [65, 64, 8],
      [1000, 100, 30],
    ] as const) {
      const starts = axisStarts(length, tile, overlap);
      expect(starts[0]).toBe(0);
      expect(starts.at(-1)! + tile).toBe(length);
      for (let i = 1; i < starts.length; i++) {
        expect(starts[i - 1]! + tile - starts[i]!).toBeGreaterThanOrEqual(overlap);
        expect(starts[i]!).toBeGreaterThan(starts[i - 1]!);
      }
    }
    expect(axisStarts(50, 64, 8)).toEqual([0]);
  });

  it('gives ramps only on inner edges, matching the overlap with the neighbour', () => {
    const plan = planTiles(300, 200, 128, 16);
    expect(plan.tileWidth).toBe(128);
    for (const tile of plan.tiles) {
      if (tile.x === 0) expect(tile.rampLeft).toBe(0);
      if (tile.x + plan.tileWidth === 300) expect(tile.rampRight).toBe(0);
      if (tile.y === 0) expect(tile.rampTop).toBe(0);
      if (tile.y + plan.tileHeight === 200) expect(tile.rampBottom).toBe(0);
    }
    const row = plan.tiles.filter((t) => t.y === 0);
    for (let i = 1; i < row.length; i++) {
      expect(row[i]!.rampLeft).toBe(row[i - 1]!.rampRight);
      expect(row[i]!.rampLeft).toBe(row[i - 1]!.x + 128 - row[i]!.x);
    }
  });

  it('weights of overlapping tiles sum smoothly across the hand-over', () => {
    // two tiles of 10 overlapping by 4: positions 6..9 are shared
    const size = 10;
    const sums: number[] = [];
    for (let p = 0; p < 16; p++) {
      let sum = 0;
      if (p < 10) sum += rampWeight(p, size, 0, 4);
      if (p >= 6) sum += rampWeight(p - 6, size, 4, 0);
      sums.push(sum);
    }
    // inside the overlap the two ramps add up to exactly 1
    for (let p = 6; p < 10; p++) expect(sums[p]).toBeCloseTo(1, 9);
    expect(rampWeight(0, size, 4, 0)).toBeCloseTo(0.125, 9);
  });

  it('chooses the tile size from the binding limit', () => {
    const small = chooseTileSize({
      maxBindingBytes: 128 * 1024 * 1024,
      bytesPerInputPixel: 64 * 16 * 4,
      preferred: 512,
      multiple: 8,
      minSize: 32,
    });
    expect(small).toBe(176); // sqrt(134217728 / 4096) = 181 -> 176
    const big = chooseTileSize({
      maxBindingBytes: 1024 ** 3,
      bytesPerInputPixel: 64 * 16 * 4,
      preferred: 256,
      multiple: 8,
      minSize: 32,
    });
    expect(big).toBe(256);
  });
});
