/**
 * Enhanced frames leave the CPU-side output paths as I420 in the SOURCE's colour space.
 *
 * Handed an RGB VideoFrame, Chromium's encoder converts it with BT.601 and tags the stream
 * smpte170m whatever the source was, so a BT.709 clip came back as BT.601 (players that assume
 * BT.709 for HD then shift its colours). Converting here with the source's own matrix and range,
 * and building the VideoFrame with the source's colour space, keeps the tags and the colours.
 * Only for YCbCr matrices we know (BT.709, BT.601 as smpte170m/bt470bg); anything else (untagged,
 * RGB, BT.2020) stays RGBA and the encoder decides, as before.
 */

/** Luma weights (Kr, Kb) per VideoMatrixCoefficients. */
const MATRICES: Readonly<Record<string, readonly [number, number]>> = {
  bt709: [0.2126, 0.0722],
  smpte170m: [0.299, 0.114],
  bt470bg: [0.299, 0.114],
};

/** The colour space an output frame converted for `source` gets, or null to stay RGBA. */
export function yuvTarget(
  source: VideoColorSpaceInit | null | undefined,
  width: number,
  height: number,
): VideoColorSpaceInit | null {
  if (!source?.matrix || !(source.matrix in MATRICES)) return null;
  if (width % 2 !== 0 || height % 2 !== 0) return null;
  return {
    matrix: source.matrix,
    fullRange: source.fullRange ?? false,
    ...(source.primaries ? { primaries: source.primaries } : {}),
    ...(source.transfer ? { transfer: source.transfer } : {}),
  };
}

/**
 * RGBA rows (`stride` bytes apart) -> I420 (Y plane, then U, then V; chroma averaged over each
 * 2x2 block) with the matrix and range of `space`. `out` has width * height * 3 / 2 bytes.
 */
export function rgbaToI420(
  rgba: Uint8Array,
  stride: number,
  width: number,
  height: number,
  space: VideoColorSpaceInit,
  out: Uint8Array,
): void {
  const [kr, kb] = MATRICES[space.matrix ?? ''] ?? MATRICES['bt709']!;
  const kg = 1 - kr - kb;
  const full = space.fullRange === true;
  const yScale = full ? 255 : 219;
  const yOffset = full ? 0 : 16;
  const cScale = full ? 255 : 224;
  const cb = cScale / (2 * (1 - kb));
  const cr = cScale / (2 * (1 - kr));
  const cw = width / 2;
  const uBase = width * height;
  const vBase = uBase + cw * (height / 2);
  for (let y = 0; y < height; y++) {
    const row = y * stride;
    for (let x = 0; x < width; x++) {
      const s = row + x * 4;
      const luma = (kr * rgba[s]! + kg * rgba[s + 1]! + kb * rgba[s + 2]!) / 255;
      out[y * width + x] = Math.round(yOffset + yScale * luma);
    }
  }
  for (let y = 0; y < height; y += 2) {
    for (let x = 0; x < width; x += 2) {
      let r = 0;
      let g = 0;
      let b = 0;
      for (const s of [
        y * stride + x * 4,
        y * stride + (x + 1) * 4,
        (y + 1) * stride + x * 4,
        (y + 1) * stride + (x + 1) * 4,
      ]) {
        r += rgba[s]!;
        g += rgba[s + 1]!;
        b += rgba[s + 2]!;
      }
      const luma = (kr * r + kg * g + kb * b) / (4 * 255);
      const i = (y / 2) * cw + x / 2;
      out[uBase + i] = Math.min(255, Math.max(0, Math.round(128 + cb * (b / 1020 - luma))));
      out[vBase + i] = Math.min(255, Math.max(0, Math.round(128 + cr * (r / 1020 - luma))));
    }
  }
}

/** Makes output VideoFrames from RGBA bytes: I420 in the source's colour space where it can. */
export class YuvFrameMaker {
  private buffer: Uint8Array<ArrayBuffer> | null = null;

  constructor(
    readonly width: number,
    readonly height: number,
  ) {}

  /** null when the frame should stay RGBA (see yuvTarget). */
  make(
    rgba: Uint8Array,
    stride: number,
    source: VideoColorSpaceInit | null | undefined,
    times: { timestamp: number; duration?: number },
  ): VideoFrame | null {
    const { width, height } = this;
    const space = yuvTarget(source, width, height);
    if (!space) return null;
    this.buffer ??= new Uint8Array((width * height * 3) / 2);
    rgbaToI420(rgba, stride, width, height, space, this.buffer);
    return new VideoFrame(this.buffer, {
      ...times,
      format: 'I420',
      codedWidth: width,
      codedHeight: height,
      colorSpace: space,
    });
  }
}
