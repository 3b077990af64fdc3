/**
 * The eight flips and transposes of a picture (the dihedral group D4), as ffmpeg's filters make
 * them and undone in TypeScript: the self-ensemble probe (ensemble.ts) feeds a model each
 * transformed clip and averages the outputs mapped back.
 */
import type { RgbFrame } from './metrics.ts';

/** Transpose first (x and y swap), then mirror left-right, then top-bottom. */
export interface D4 {
  readonly transpose: boolean;
  readonly hflip: boolean;
  readonly vflip: boolean;
}

/** Identity first, then the mirrors, then the transposes: a prefix of 2 or 4 is a fair subset. */
export const D4_ALL: readonly D4[] = [
  { transpose: false, hflip: false, vflip: false },
  { transpose: false, hflip: true, vflip: false },
  { transpose: false, hflip: false, vflip: true },
  { transpose: false, hflip: true, vflip: true },
  { transpose: true, hflip: false, vflip: false },
  { transpose: true, hflip: true, vflip: false },
  { transpose: true, hflip: false, vflip: true },
  { transpose: true, hflip: true, vflip: true },
];

export function d4Name(t: D4): string {
  return `${t.transpose ? 't' : ''}${t.hflip ? 'h' : ''}${t.vflip ? 'v' : ''}` || 'id';
}

/** ffmpeg's -vf chain for `t` (its transpose=0 is "counter-clockwise and vertical flip", a plain transpose). */
export function d4Filters(t: D4): string[] {
  return [t.transpose ? 'transpose=0' : '', t.hflip ? 'hflip' : '', t.vflip ? 'vflip' : ''].filter(
    (f) => f !== '',
  );
}

/** Maps a picture made in `t`'s space back to the original orientation. */
export function d4Undo(frame: RgbFrame, t: D4): RgbFrame {
  const { width: w, height: h, data } = frame;
  const width = t.transpose ? h : w;
  const height = t.transpose ? w : h;
  const out = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) {
      let tx = t.transpose ? y : x;
      let ty = t.transpose ? x : y;
      if (t.hflip) tx = w - 1 - tx;
      if (t.vflip) ty = h - 1 - ty;
      const s = (ty * w + tx) * 3;
      const d = (y * width + x) * 3;
      out[d] = data[s]!;
      out[d + 1] = data[s + 1]!;
      out[d + 2] = data[s + 2]!;
    }
  return { width, height, data: out };
}
