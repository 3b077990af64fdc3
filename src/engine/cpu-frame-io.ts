/**
 * How frames get into and out of the CPU (wasm) pipelines, shared by all of them: a 2D canvas
 * turns a VideoFrame into RGBA bytes, and planar tensors go back through the frame-tensor CPU
 * implementation into a canvas the output VideoFrame is made from. Canvases are made once.
 */
import { tensorToRgbaInto } from '../kernels/frame-tensor/frame-tensor.ref.ts';
import type { TensorRange } from '../kernels/frame-tensor/frame-tensor.ts';
import { UpframeError } from '../shared/errors.ts';
import { frameTimes } from './frame-io.ts';
import { YuvFrameMaker } from './yuv-output.ts';

function context2d(
  width: number,
  height: number,
  read: boolean,
): OffscreenCanvasRenderingContext2D {
  const ctx = new OffscreenCanvas(width, height).getContext('2d', { willReadFrequently: read });
  if (!ctx) throw new UpframeError('INTERNAL', 'Internal error: no 2D canvas in this worker.');
  return ctx;
}

export class CpuFrameInput {
  private readonly ctx: OffscreenCanvasRenderingContext2D;

  constructor(
    readonly width: number,
    readonly height: number,
  ) {
    this.ctx = context2d(width, height, true);
  }

  /** The frame's pixels as RGBA bytes, row by row, at width x height. */
  pixels(frame: VideoFrame): Uint8Array {
    this.ctx.drawImage(frame, 0, 0, this.width, this.height);
    const rgba = this.ctx.getImageData(0, 0, this.width, this.height).data;
    return new Uint8Array(rgba.buffer, rgba.byteOffset, rgba.byteLength);
  }
}

export class CpuFrameOutput {
  private readonly ctx: OffscreenCanvasRenderingContext2D;
  private readonly yuv: YuvFrameMaker;
  /** The RGBA bytes of the frame being emitted, reused (both exits below copy them). */
  private readonly rgba: Uint8Array<ArrayBuffer>;
  /** false: RGB frames (see FrameEnhancer.emitRgb). */
  sourceColour = true;

  constructor(
    readonly width: number,
    readonly height: number,
  ) {
    this.ctx = context2d(width, height, false);
    this.yuv = new YuvFrameMaker(width, height);
    this.rgba = new Uint8Array(width * height * 4);
  }

  /**
   * A VideoFrame of the planar RGB tensor (clamped and rounded), with `source`'s times: I420 in
   * `source`'s colour space where yuv-output.ts can convert to it, else RGB.
   */
  emit(tensor: Float32Array, range: TensorRange, source: VideoFrame): VideoFrame {
    const { width, height } = this;
    const region = { x: 0, y: 0, width, height };
    const rgba = tensorToRgbaInto(tensor, region, width, height, range, this.rgba);
    const yuv = this.sourceColour
      ? this.yuv.make(rgba, width * 4, source.colorSpace, frameTimes(source))
      : null;
    if (yuv) return yuv;
    this.ctx.putImageData(new ImageData(new Uint8ClampedArray(rgba.buffer), width, height), 0, 0);
    return new VideoFrame(this.ctx.canvas, frameTimes(source));
  }
}
