import { describe, expect, it } from 'vitest';
import { planarShape, planarToI420 } from './to-i420.ts';

/** A planar frame of `bits` (little-endian 16-bit samples above 8) from per-plane functions. */
function frame(
  bits: number,
  planes: readonly { w: number; h: number; value: (x: number, y: number) => number }[],
): { bytes: Uint8Array; layout: PlaneLayout[] } {
  const size = bits > 8 ? 2 : 1;
  const layout: PlaneLayout[] = [];
  let offset = 0;
  for (const p of planes) {
    // a stride wider than the row, as decoders lay planes out
    layout.push({ offset, stride: (p.w + 3) * size });
    offset += (p.w + 3) * size * p.h;
  }
  const bytes = new Uint8Array(offset);
  const view = new DataView(bytes.buffer);
  planes.forEach((p, i) => {
    for (let y = 0; y < p.h; y++) {
      for (let x = 0; x < p.w; x++) {
        const at = layout[i]!.offset + y * layout[i]!.stride + x * size;
        if (size === 2) view.setUint16(at, p.value(x, y), true);
        else bytes[at] = p.value(x, y);
      }
    }
  });
  return { bytes, layout };
}

describe('frames the encoders refuse, brought to 8-bit 4:2:0', () => {
  it('knows which formats need it', () => {
    expect(planarShape('I420')).toBeNull();
    expect(planarShape('NV12')).toBeNull();
    expect(planarShape('RGBA')).toBeNull();
    expect(planarShape('I420P10')).toEqual({ chromaX: 2, chromaY: 2, bits: 10 });
    expect(planarShape('I422')).toEqual({ chromaX: 2, chromaY: 1, bits: 8 });
    expect(planarShape('I444AP12')).toEqual({ chromaX: 1, chromaY: 1, bits: 12 });
  });

  it('rounds 10-bit samples and averages 4:2:2 chroma over the two rows 4:2:0 keeps one of', () => {
    const w = 5; // odd: the last chroma column covers one luma column
    const h = 4;
    const luma = (x: number, y: number) => 4 * (x + 10 * y) + (x % 4); // 4n+0..3: rounding shows
    const cb = (x: number, y: number) => 400 + 40 * y + x; // rows differ: picking one would show
    const cr = (x: number, y: number) => 1023 - 100 * y - 3 * x;
    const { bytes, layout } = frame(10, [
      { w, h, value: luma },
      { w: 3, h, value: cb },
      { w: 3, h, value: cr },
    ]);
    const out = new Uint8Array(w * h + 2 * 3 * 2);
    planarToI420(bytes, layout, planarShape('I422P10')!, w, h, out);
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) expect(out[y * w + x]).toBe(Math.round(luma(x, y) / 4 + 1e-9));
    }
    for (const [k, plane] of [cb, cr].entries()) {
      for (let y = 0; y < 2; y++) {
        for (let x = 0; x < 3; x++) {
          const mean = (plane(x, 2 * y) + plane(x, 2 * y + 1)) / 2;
          expect(out[w * h + k * 6 + y * 3 + x]).toBe(Math.round(mean / 4));
        }
      }
    }
  });

  it('averages 8-bit 4:4:4 chroma over 2x2, the edge over what is there', () => {
    const w = 3;
    const h = 3;
    const plane = (x: number, y: number) => 10 * x + 70 * y;
    const { bytes, layout } = frame(8, [
      { w, h, value: () => 50 },
      { w, h, value: plane },
      { w, h, value: (x, y) => 255 - plane(x, y) },
    ]);
    const out = new Uint8Array(w * h + 2 * 2 * 2);
    planarToI420(bytes, layout, planarShape('I444')!, w, h, out);
    expect([...out.subarray(0, 9)]).toEqual(Array(9).fill(50));
    // Cb: (0,0) the mean of x 0-1, y 0-1; (1,0) of x 2, y 0-1; (0,1) of x 0-1, y 2; (1,1) x 2, y 2
    expect([...out.subarray(9, 13)]).toEqual([40, 55, 145, 160]);
    expect([...out.subarray(13, 17)]).toEqual([215, 200, 110, 95]);
  });
});
