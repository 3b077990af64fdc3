/**
 * Motion-adaptive deinterlacing, one frame out for each frame in (the frame count, rate and every
 * timestamp stay), for video whose frames hold two fields from different moments (1080i
 * camcorders, SD television). Without it the combs on moving edges are enhanced as detail.
 *
 * The first field's lines are kept (the top field's, or the bottom field's when the stream says
 * it comes first: h264-field-order.ts). Each line of the other field is rebuilt at the first
 * field's moment the way yadif does it, with the previous frame only (no look-ahead, so no added
 * latency):
 *  - a temporal prediction, the mean of that line in the previous and the current frame (those
 *    two fields lie half a field period before and after the first field, so in a still picture
 *    it is the line itself, at full vertical resolution);
 *  - a spatial prediction from the lines above and below, along the edge direction (of -1, 0,
 *    +1 pixels) whose three-pixel neighbourhoods agree best;
 *  - the spatial prediction clamped to the temporal one plus or minus how much the picture moved
 *    there (the field's own change and its neighbours'): where nothing moved the line is the
 *    woven one, where things moved it is interpolated.
 * The first frame (and the first after `reset`) has no previous frame: spatial only.
 * Video whose field order is taken wrongly degrades gracefully (the temporal prediction is then a
 * field off, so moving areas take the spatial prediction, still areas stay whole).
 */
import {
  deinterlaceComponent,
  type ComponentLayout,
  type FieldOrder,
  type PictureScan,
} from '../shared/deinterlace-rows.ts';

export { deinterlaceComponent, type ComponentLayout };

/** The components of a frame buffer in `format` as `copyTo` laid it out; null: not 8-bit. */
export function componentsOf(
  format: VideoPixelFormat,
  layout: readonly PlaneLayout[],
  width: number,
  height: number,
): ComponentLayout[] | null {
  const half = (n: number) => Math.ceil(n / 2);
  const plane = (p: number, step: number, w: number, h: number, shift = 0): ComponentLayout => ({
    offset: layout[p]!.offset + shift,
    stride: layout[p]!.stride,
    step,
    width: w,
    height: h,
  });
  switch (format) {
    case 'I420':
      return [
        plane(0, 1, width, height),
        plane(1, 1, half(width), half(height)),
        plane(2, 1, half(width), half(height)),
      ];
    case 'I420A':
      return [
        plane(0, 1, width, height),
        plane(1, 1, half(width), half(height)),
        plane(2, 1, half(width), half(height)),
        plane(3, 1, width, height),
      ];
    case 'I422':
      return [
        plane(0, 1, width, height),
        plane(1, 1, half(width), height),
        plane(2, 1, half(width), height),
      ];
    case 'I444':
      return [plane(0, 1, width, height), plane(1, 1, width, height), plane(2, 1, width, height)];
    case 'NV12':
      return [
        plane(0, 1, width, height),
        plane(1, 2, half(width), half(height)),
        plane(1, 2, half(width), half(height), 1),
      ];
    case 'RGBA':
    case 'RGBX':
    case 'BGRA':
    case 'BGRX':
      return [0, 1, 2].map((k) => plane(0, 4, width, height, k));
    default:
      return null;
  }
}

/**
 * Deinterlaces the frames of one clip in order. Its three buffers are made for the first frame
 * and reused (a frame of another size or format makes them again); each frame returned is new
 * and the caller closes it. Formats of more than 8 bits pass through as a copy of the frame.
 */
export class Deinterlacer {
  /** `fields`: which field comes first (and is kept); top first unless the stream says. */
  constructor(readonly fields: FieldOrder = 'top-first') {}

  private cur: Uint8Array<ArrayBuffer> | null = null;
  private prev: Uint8Array<ArrayBuffer> | null = null;
  private out: Uint8Array<ArrayBuffer> | null = null;
  private hasPrevious = false;
  private shape = '';

  /** Forget the previous frame (a new clip, or a render resumed at a key frame). */
  reset(): void {
    this.hasPrevious = false;
  }

  /**
   * The progressive frame for `frame`; `picture` says how this one picture is shown when the
   * stream says (h264-field-order.ts): a progressive one passes unchanged (and is still the next
   * one's previous frame), and fields in another order than the clip's are taken in theirs.
   */
  async process(frame: VideoFrame, picture: PictureScan | null = null): Promise<VideoFrame> {
    const format = frame.format;
    const rect = frame.visibleRect;
    if (!format || !rect) return frame.clone();
    const { width, height } = rect;
    const bytes = frame.allocationSize();
    const shape = `${format} ${width}x${height} ${bytes}`;
    if (shape !== this.shape || !this.cur || !this.prev || !this.out) {
      this.cur = new Uint8Array(bytes);
      this.prev = new Uint8Array(bytes);
      this.out = new Uint8Array(bytes);
      this.shape = shape;
      this.hasPrevious = false;
    }
    const layout = await frame.copyTo(this.cur);
    const components = componentsOf(format, layout, width, height);
    if (!components) return frame.clone();
    if (picture === 'progressive') {
      [this.cur, this.prev] = [this.prev, this.cur];
      this.hasPrevious = true;
      return frame.clone();
    }
    const bottomFirst = (picture ?? this.fields) === 'bottom-first';
    this.out.set(this.cur);
    for (const c of components) {
      const prev = this.hasPrevious ? this.prev : null;
      deinterlaceComponent(this.cur, prev, this.out, c, bottomFirst);
    }
    const result = new VideoFrame(this.out, {
      format,
      codedWidth: width,
      codedHeight: height,
      layout,
      timestamp: frame.timestamp,
      ...(frame.duration !== null ? { duration: frame.duration } : {}),
      displayWidth: frame.displayWidth,
      displayHeight: frame.displayHeight,
      colorSpace: frame.colorSpace.toJSON(),
    });
    [this.cur, this.prev] = [this.prev, this.cur];
    this.hasPrevious = true;
    return result;
  }
}
