import { describe, expect, it } from 'vitest';
import { rgbaToI420, yuvTarget } from './yuv-output.ts';

/** One 2x2 block of a single colour -> its Y, U, V bytes. */
function convert(rgb: [number, number, number], space: VideoColorSpaceInit): number[] {
  const rgba = new Uint8Array(16);
  for (let i = 0; i < 4; i++) rgba.set([...rgb, 255], i * 4);
  const out = new Uint8Array(6);
  rgbaToI420(rgba, 8, 2, 2, space, out);
  return [out[0]!, out[4]!, out[5]!];
}

describe('I420 output in the source colour space', () => {
  it('gives the standard limited-range codes for BT.709 and BT.601', () => {
    const bt709 = { matrix: 'bt709' as const, fullRange: false };
    const bt601 = { matrix: 'smpte170m' as const, fullRange: false };
    expect(convert([255, 255, 255], bt709)).toEqual([235, 128, 128]);
    expect(convert([0, 0, 0], bt709)).toEqual([16, 128, 128]);
    expect(convert([255, 0, 0], bt709)).toEqual([63, 102, 240]);
    expect(convert([0, 0, 255], bt709)).toEqual([32, 240, 118]);
    expect(convert([255, 0, 0], bt601)).toEqual([81, 90, 240]);
    expect(convert([0, 255, 0], bt601)).toEqual([145, 54, 34]);
    expect(convert([255, 255, 255], { matrix: 'bt709', fullRange: true })).toEqual([255, 128, 128]);
  });

  it('averages chroma over 2x2 blocks and keeps full-resolution luma, honouring the stride', () => {
    const [w, h, stride] = [4, 2, 24];
    const rgba = new Uint8Array(stride * h).fill(7); // padding bytes must be ignored
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++)
        rgba.set(x < 2 ? [255, 0, 0, 255] : [0, 0, 255, 255], y * stride + x * 4);
    const out = new Uint8Array((w * h * 3) / 2);
    rgbaToI420(rgba, stride, w, h, { matrix: 'bt709', fullRange: false }, out);
    expect(Array.from(out.subarray(0, 8))).toEqual([63, 63, 32, 32, 63, 63, 32, 32]);
    expect(Array.from(out.subarray(8))).toEqual([102, 240, 240, 118]);
  });

  it('converts only for known YCbCr matrices and even sizes', () => {
    const bt709 = {
      primaries: 'bt709',
      transfer: 'bt709',
      matrix: 'bt709',
      fullRange: false,
    } as const;
    expect(yuvTarget(bt709, 640, 360)).toEqual(bt709);
    expect(yuvTarget({ ...bt709, fullRange: null }, 640, 360)?.fullRange).toBe(false);
    expect(yuvTarget(bt709, 641, 360)).toBeNull();
    expect(yuvTarget({ matrix: 'rgb' }, 640, 360)).toBeNull();
    expect(yuvTarget({ matrix: 'bt2020-ncl' as VideoMatrixCoefficients }, 640, 360)).toBeNull();
    expect(yuvTarget(null, 640, 360)).toBeNull();
    expect(yuvTarget({ matrix: null }, 640, 360)).toBeNull();
  });
});
