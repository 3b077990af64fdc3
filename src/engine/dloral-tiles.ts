/**
 * DLoRAL frame geometry and tiling, as the released code does it: the processed size of a frame,
 * the latent tile grid of CFR + UNet with its Gaussian weights, and the VAE tile grids. Pure
 * arithmetic, shared by both pipelines, the memory plan and the tests (split from dloral-pack.ts).
 */
import { axisStarts } from './tiling.ts';
import { UpframeError } from '../shared/errors.ts';

/**
 * Frame sizes as the released test script computes them. A frame whose side is under
 * processSize / scale is first enlarged so its short side reaches it (int() of the float size),
 * then upscaled by `scale`, then cut to a multiple of 8. Here the three resizes are one bicubic
 * resize to that final size; the enhanced frame is resized back to scale x the input whenever the
 * processed size differs (the released code does so only for enlarged frames, and otherwise keeps
 * a frame up to 4 pixels smaller; we keep every output frame exactly scale x the input).
 */
export interface DloralGeometry {
  readonly inputWidth: number;
  readonly inputHeight: number;
  /** Processed (upsampled) size, a multiple of 8. */
  readonly width: number;
  readonly height: number;
  readonly latentWidth: number;
  readonly latentHeight: number;
  readonly outputWidth: number;
  readonly outputHeight: number;
  readonly enlarged: boolean;
  /** The output needs a final resize from width x height to outputWidth x outputHeight. */
  readonly resizeBack: boolean;
}

export function dloralGeometry(
  inputWidth: number,
  inputHeight: number,
  scale: number,
  processSize: number,
): DloralGeometry {
  if (
    !Number.isInteger(inputWidth) ||
    !Number.isInteger(inputHeight) ||
    inputWidth < 1 ||
    inputHeight < 1
  ) {
    throw new UpframeError(
      'INVALID_OPTION',
      `Frame size ${inputWidth}x${inputHeight} is not valid.`,
    );
  }
  const minSide = Math.floor(processSize / scale);
  let w = inputWidth;
  let h = inputHeight;
  const enlarged = w < minSide || h < minSide;
  if (enlarged) {
    const s = minSide / Math.min(w, h);
    w = Math.floor(s * w);
    h = Math.floor(s * h);
  }
  const width = w * scale - ((w * scale) % 8);
  const height = h * scale - ((h * scale) % 8);
  const outputWidth = inputWidth * scale;
  const outputHeight = inputHeight * scale;
  return {
    inputWidth,
    inputHeight,
    width,
    height,
    latentWidth: width / 8,
    latentHeight: height / 8,
    outputWidth,
    outputHeight,
    enlarged,
    resizeBack: width !== outputWidth || height !== outputHeight,
  };
}

export interface LatentTile {
  readonly x: number;
  readonly y: number;
}

export interface LatentTilePlan {
  readonly width: number;
  readonly height: number;
  readonly tileWidth: number;
  readonly tileHeight: number;
  readonly tiles: readonly LatentTile[];
  /** [tileHeight * tileWidth] blending weights (all equal to one for a single tile). */
  readonly weights: Float32Array<ArrayBuffer>;
}

/**
 * The released latent tiling of CFR + UNet: the whole latent in one pass when w * h <= size^2;
 * otherwise square tiles of min(size, h, w), stepping by size - overlap, the last row and column
 * flush with the edge, blended with `gaussianWeights`.
 */
export function planLatentTiles(
  width: number,
  height: number,
  size: number,
  overlap: number,
): LatentTilePlan {
  if (width * height <= size * size) {
    return {
      width,
      height,
      tileWidth: width,
      tileHeight: height,
      tiles: [{ x: 0, y: 0 }],
      weights: new Float32Array(width * height).fill(1),
    };
  }
  const t = Math.min(size, width, height);
  const step = t - overlap;
  if (step <= 0) {
    throw new UpframeError(
      'INVALID_OPTION',
      `Latent tile ${t} is not larger than its overlap ${overlap}.`,
    );
  }
  const count = (length: number): number => {
    let n = 0;
    let cur = 0;
    while (cur < length) {
      cur = Math.max(n * t - overlap * n, 0) + t;
      n += 1;
    }
    return n;
  };
  const starts = (length: number): number[] => {
    const n = count(length);
    return Array.from({ length: n }, (_, i) => (i === n - 1 ? length - t : i * step));
  };
  const xs = starts(width);
  const ys = starts(height);
  const tiles: LatentTile[] = [];
  for (const x of xs) for (const y of ys) tiles.push({ x, y });
  return { width, height, tileWidth: t, tileHeight: t, tiles, weights: gaussianWeights(t, t) };
}

/**
 * The released `_gaussian_weights` (var 0.01; note the x midpoint (w - 1) / 2 and the y midpoint
 * h / 2, kept as released), without the constant 1 / sqrt(2 pi var) factor, which cancels when
 * the blend divides by the summed weights.
 */
export function gaussianWeights(tileWidth: number, tileHeight: number): Float32Array<ArrayBuffer> {
  const variance = 0.01;
  const mx = (tileWidth - 1) / 2;
  const my = tileHeight / 2;
  const xs = Array.from({ length: tileWidth }, (_, x) =>
    Math.exp(-((x - mx) * (x - mx)) / (tileWidth * tileWidth) / (2 * variance)),
  );
  const ys = Array.from({ length: tileHeight }, (_, y) =>
    Math.exp(-((y - my) * (y - my)) / (tileHeight * tileHeight) / (2 * variance)),
  );
  const out = new Float32Array(tileWidth * tileHeight);
  for (let y = 0; y < tileHeight; y++)
    for (let x = 0; x < tileWidth; x++) out[y * tileWidth + x] = ys[y]! * xs[x]!;
  return out;
}

/** A VAE tile grid in latent pixels: equal tiles, last ones flush, feathered overlaps. */
export interface VaeTilePlan {
  readonly tileWidth: number;
  readonly tileHeight: number;
  readonly tiles: readonly {
    readonly x: number;
    readonly y: number;
    readonly rampLeft: number;
    readonly rampRight: number;
    readonly rampTop: number;
    readonly rampBottom: number;
  }[];
}

export function planVaeTiles(
  latentWidth: number,
  latentHeight: number,
  tile: number,
  overlap: number,
): VaeTilePlan {
  const tw = Math.min(tile, latentWidth);
  const th = Math.min(tile, latentHeight);
  const ov = Math.min(overlap, Math.floor(Math.min(tw, th) / 2));
  const xs = axisStarts(latentWidth, tw, ov);
  const ys = axisStarts(latentHeight, th, ov);
  const tiles: VaeTilePlan['tiles'][number][] = [];
  for (let j = 0; j < ys.length; j++)
    for (let i = 0; i < xs.length; i++) {
      const x = xs[i]!;
      const y = ys[j]!;
      tiles.push({
        x,
        y,
        rampLeft: i > 0 ? xs[i - 1]! + tw - x : 0,
        rampRight: i < xs.length - 1 ? x + tw - xs[i + 1]! : 0,
        rampTop: j > 0 ? ys[j - 1]! + th - y : 0,
        rampBottom: j < ys.length - 1 ? y + th - ys[j + 1]! : 0,
      });
    }
  return { tileWidth: tw, tileHeight: th, tiles };
}

/** Overlaps of the VAE tiles, in latent pixels (the encoder's 32 px context, about 11 for the decoder). */
export const VAE_ENCODER_OVERLAP = 4;
export const VAE_DECODER_OVERLAP = 8;
