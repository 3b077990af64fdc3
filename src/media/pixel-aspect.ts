/**
 * Non-square pixels: DVD and DV video (720x480 shown at 4:3 or 16:9), HDV (1440x1080 shown at
 * 16:9) and some broadcast and phone footage store a pixel aspect ratio that players apply. The
 * enhanced file must say the same ratio, or it plays squeezed.
 */
import { SAR_TABLE } from './h264-sps.ts';
import type { PixelAspect } from './types.ts';

function gcd(a: number, b: number): number {
  while (b) [a, b] = [b, a % b];
  return a;
}

/** [num, den] reduced; null for a square pixel or a ratio that makes no sense. */
export function pixelAspect(num: number, den: number): PixelAspect | null {
  if (!Number.isInteger(num) || !Number.isInteger(den) || num <= 0 || den <= 0) return null;
  const g = gcd(num, den);
  return num === den ? null : [num / g, den / g];
}

/** The width a player shows a `width`-pixel-wide picture at (its height unchanged). */
export function shownWidth(width: number, aspect: PixelAspect | null): number {
  return aspect ? Math.round((width * aspect[0]) / aspect[1]) : width;
}

/**
 * What WebCodecs and mediabunny call the display aspect: the shown width and height of a coded
 * `width` x `height` picture, reduced (mediabunny writes it back as a pixel aspect ratio).
 */
export function displayAspect(
  width: number,
  height: number,
  aspect: PixelAspect,
): { displayAspectWidth: number; displayAspectHeight: number } {
  const w = width * aspect[0];
  const h = height * aspect[1];
  const g = gcd(w, h);
  return { displayAspectWidth: w / g, displayAspectHeight: h / g };
}

/**
 * Pixel aspects in use: H.264's Table E-1, and the Rec. 601 ones DVD and DV players use
 * (8:9, 32:27, 16:15, 64:45, 59:54, 118:81).
 */
const KNOWN: readonly PixelAspect[] = [
  ...SAR_TABLE.slice(1),
  [8, 9],
  [32, 27],
  [16, 15],
  [64, 45],
  [59, 54],
  [118, 81],
];

/**
 * The pixel aspect of a `width` x `height` picture shown at `squareWidth` x `squareHeight`, where
 * one side of the shown size was rounded to whole pixels (Matroska's DisplayWidth; mediabunny's
 * square-pixel size from an MP4 pasp): a known ratio within that rounding, so 352x240 shown at
 * 427x240 is DVD's 40:33 again, not 427:352; otherwise the ratio as it is. Null when square.
 */
export function pixelAspectOfShownSize(
  width: number,
  height: number,
  squareWidth: number,
  squareHeight: number,
): PixelAspect | null {
  if (!(width > 0 && height > 0 && squareWidth > 0 && squareHeight > 0)) return null;
  const exact = (squareWidth * height) / (width * squareHeight);
  // half a pixel on the rounded side (the other is the picture's own)
  const slack = squareHeight === height ? 0.5 / squareWidth : 0.5 / squareHeight;
  const [lo, hi] = [exact * (1 - slack), exact * (1 + slack)];
  let best: PixelAspect | null = null;
  for (const k of KNOWN) {
    const r = k[0] / k[1];
    if (r > lo && r < hi && (!best || Math.abs(r - exact) < Math.abs(best[0] / best[1] - exact)))
      best = k;
  }
  if (best) return best;
  if (lo < 1 && hi > 1) return null;
  return pixelAspect(squareWidth * height, width * squareHeight);
}
