/**
 * Tile plans for frames too large for one model pass. Every tile has the SAME size (a new tensor
 * shape costs a warm-up and a new set of GPU buffers), adjacent tiles overlap, and the last tile
 * of a row or column is aligned to the frame's edge. Blending weights ramp linearly across each
 * overlap towards the tile's inner edges and stay 1 at the frame's own border, so the weighted sum
 * has no step where one tile hands over to the next.
 */
import type { BlendTile } from '../kernels/tile-blend/tile-blend.ts';
import { assert } from '../shared/assert.ts';

export interface Tile {
  /** Top-left in input pixels. */
  readonly x: number;
  readonly y: number;
  /** Ramps, in input pixels, on each side (0 at the frame border). */
  readonly rampLeft: number;
  readonly rampRight: number;
  readonly rampTop: number;
  readonly rampBottom: number;
}

export interface TilePlan {
  readonly frameWidth: number;
  readonly frameHeight: number;
  readonly tileWidth: number;
  readonly tileHeight: number;
  readonly tiles: readonly Tile[];
}

/** Where a tile's model output lands in the output frame, ramps included, at `scale`. */
export function outputPlacement(
  tile: Tile,
  tileWidth: number,
  tileHeight: number,
  scale: number,
): BlendTile {
  return {
    x: tile.x * scale,
    y: tile.y * scale,
    width: tileWidth * scale,
    height: tileHeight * scale,
    rampLeft: tile.rampLeft * scale,
    rampRight: tile.rampRight * scale,
    rampTop: tile.rampTop * scale,
    rampBottom: tile.rampBottom * scale,
  };
}

/** Start positions along one axis: fixed tile size, overlap at least `overlap`, last tile flush. */
export function axisStarts(length: number, tile: number, overlap: number): number[] {
  assert(tile > 0 && length > 0, 'axisStarts needs positive sizes');
  if (length <= tile) return [0];
  assert(overlap < tile, 'overlap must be smaller than the tile');
  const stride = tile - overlap;
  const count = Math.ceil((length - tile) / stride) + 1;
  const starts: number[] = [];
  for (let i = 0; i < count; i++) {
    // spread the tiles evenly so every overlap is at least `overlap` and the last one is flush
    starts.push(count === 1 ? 0 : Math.round((i * (length - tile)) / (count - 1)));
  }
  return starts;
}

export function planTiles(
  frameWidth: number,
  frameHeight: number,
  tileSize: number,
  overlap: number,
): TilePlan {
  const tileWidth = Math.min(tileSize, frameWidth);
  const tileHeight = Math.min(tileSize, frameHeight);
  const xs = axisStarts(frameWidth, tileWidth, overlap);
  const ys = axisStarts(frameHeight, tileHeight, overlap);
  const tiles: Tile[] = [];
  for (let j = 0; j < ys.length; j++) {
    for (let i = 0; i < xs.length; i++) {
      const x = xs[i]!;
      const y = ys[j]!;
      tiles.push({
        x,
        y,
        rampLeft: i > 0 ? xs[i - 1]! + tileWidth - x : 0,
        rampRight: i < xs.length - 1 ? x + tileWidth - xs[i + 1]! : 0,
        rampTop: j > 0 ? ys[j - 1]! + tileHeight - y : 0,
        rampBottom: j < ys.length - 1 ? y + tileHeight - ys[j + 1]! : 0,
      });
    }
  }
  return { frameWidth, frameHeight, tileWidth, tileHeight, tiles };
}

/**
 * Weight of a position `p` (in output pixels, pixel centre at p + 0.5) inside a tile of `size`
 * output pixels with ramps `a` (start) and `b` (end), both in output pixels. Linear from ~0 to 1
 * across each ramp; the small floor keeps every pixel covered by at least a positive weight.
 */
export function rampWeight(p: number, size: number, a: number, b: number): number {
  const c = p + 0.5;
  let w = 1;
  if (a > 0) w = Math.min(w, c / a);
  if (b > 0) w = Math.min(w, (size - c) / b);
  return Math.max(w, 1e-3);
}

/**
 * The tile size for a model: as large as the device allows (the biggest activation must fit one
 * storage binding) and no larger than `preferred`, a multiple of `multiple`, at least `minSize`.
 */
export function chooseTileSize(options: {
  readonly maxBindingBytes: number;
  /** Bytes of the largest intermediate tensor per INPUT pixel (e.g. channels x scale^2 x 4). */
  readonly bytesPerInputPixel: number;
  readonly preferred: number;
  readonly multiple: number;
  readonly minSize: number;
}): number {
  const byMemory = Math.floor(Math.sqrt(options.maxBindingBytes / options.bytesPerInputPixel));
  const size = Math.min(options.preferred, byMemory);
  const rounded = Math.floor(size / options.multiple) * options.multiple;
  return Math.max(options.minSize, rounded);
}
