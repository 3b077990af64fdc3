/**
 * Frames the browser's encoders take: 8-bit 4:2:0 (I420, NV12) or RGB. A decoder hands out what
 * the stream holds, and Chromium's encoders refuse the rest ("Unexpected frame format"): 10- and
 * 12-bit video, 4:2:2 and 4:4:4 (ProRes-like camera files, screen recordings, HDR phones). Those
 * are brought to 8-bit 4:2:0 here, in the frame's own colour space: each sample rounded to 8
 * bits, and the chroma of 4:2:2 and 4:4:4 averaged over the two rows (and two columns) that
 * 4:2:0 keeps one sample for. An alpha plane is dropped (no encoder here keeps it).
 */

const ENCODABLE: ReadonlySet<string> = new Set(['I420', 'NV12', 'RGBA', 'RGBX', 'BGRA', 'BGRX']);

/** 4:2:0, 4:2:2 or 4:4:4 planar YUV of 8, 10 or 12 bits, with or without alpha. */
const PLANAR = /^I4(20|22|44)A?(?:P(10|12))?$/;

export interface PlanarShape {
  /** Chroma columns and rows per luma sample: 2 = halved, 1 = full. */
  readonly chromaX: 1 | 2;
  readonly chromaY: 1 | 2;
  readonly bits: 8 | 10 | 12;
}

/** How a planar YUV format is laid out, or null (an encodable or unknown format). */
export function planarShape(format: string | null): PlanarShape | null {
  if (format === null || ENCODABLE.has(format)) return null;
  const m = PLANAR.exec(format);
  if (!m) return null;
  return {
    chromaX: m[1] === '44' ? 1 : 2,
    chromaY: m[1] === '20' ? 2 : 1,
    bits: m[2] === '10' ? 10 : m[2] === '12' ? 12 : 8,
  };
}

/**
 * Writes the I420 planes of a planar frame (`src`, laid out as `layout` says) into `out`
 * (width x height luma, then the two half-size chroma planes). Pure: a test can run it on bytes.
 */
export function planarToI420(
  src: Uint8Array,
  layout: readonly PlaneLayout[],
  shape: PlanarShape,
  width: number,
  height: number,
  out: Uint8Array,
): void {
  const wide = shape.bits > 8;
  const shift = shape.bits - 8;
  const half = shift > 0 ? 1 << (shift - 1) : 0;
  const words = new DataView(src.buffer, src.byteOffset, src.byteLength);
  const at = (p: number, x: number, y: number): number => {
    const { offset, stride } = layout[p]!;
    return wide
      ? words.getUint16(offset + y * stride + 2 * x, true)
      : src[offset + y * stride + x]!;
  };
  // luma: one sample each, to 8 bits with rounding
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      out[y * width + x] = Math.min(255, (at(0, x, y) + half) >> shift);
    }
  }
  // chroma: the mean of the samples that fall on each 4:2:0 sample (1, 2 or 4 of them)
  const cw = Math.ceil(width / 2);
  const ch = Math.ceil(height / 2);
  const srcW = Math.ceil(width / shape.chromaX);
  const srcH = Math.ceil(height / shape.chromaY);
  const stepX = 2 / shape.chromaX;
  const stepY = 2 / shape.chromaY;
  for (let p = 1; p <= 2; p++) {
    const base = width * height + (p - 1) * cw * ch;
    for (let y = 0; y < ch; y++) {
      const y0 = y * stepY;
      const y1 = Math.min(y0 + stepY - 1, srcH - 1);
      for (let x = 0; x < cw; x++) {
        const x0 = x * stepX;
        const x1 = Math.min(x0 + stepX - 1, srcW - 1);
        let sum = 0;
        let n = 0;
        for (let yy = y0; yy <= y1; yy++) {
          for (let xx = x0; xx <= x1; xx++) {
            sum += at(p, xx, yy);
            n++;
          }
        }
        // mean, then to 8 bits, rounded once
        out[base + y * cw + x] = Math.min(255, Math.round(sum / n / (1 << shift)));
      }
    }
  }
}

/**
 * Converts the frames of one render that the encoders would refuse. Its buffers are made for the
 * first such frame and reused (another size or format makes them again).
 */
export class EncodableFrames {
  private src: Uint8Array<ArrayBuffer> | null = null;
  private out: Uint8Array<ArrayBuffer> | null = null;
  private shape = '';

  /** Whether `frame` must go through `convert` before an encoder takes it. */
  static needs(frame: VideoFrame): boolean {
    return planarShape(frame.format) !== null;
  }

  /** A new 8-bit 4:2:0 frame for `frame` (which stays the caller's), same times and colours. */
  async convert(frame: VideoFrame): Promise<VideoFrame> {
    const shape = planarShape(frame.format);
    const rect = frame.visibleRect;
    if (!shape || !rect) return frame.clone();
    const { width, height } = rect;
    const bytes = frame.allocationSize();
    const outBytes = width * height + 2 * Math.ceil(width / 2) * Math.ceil(height / 2);
    const key = `${frame.format} ${width}x${height} ${bytes}`;
    if (key !== this.shape || !this.src || !this.out) {
      this.src = new Uint8Array(bytes);
      this.out = new Uint8Array(outBytes);
      this.shape = key;
    }
    const layout = await frame.copyTo(this.src);
    planarToI420(this.src, layout, shape, width, height, this.out);
    return new VideoFrame(this.out, {
      format: 'I420',
      codedWidth: width,
      codedHeight: height,
      timestamp: frame.timestamp,
      ...(frame.duration !== null ? { duration: frame.duration } : {}),
      displayWidth: frame.displayWidth,
      displayHeight: frame.displayHeight,
      colorSpace: frame.colorSpace.toJSON(),
    });
  }
}
