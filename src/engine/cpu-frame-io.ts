/**
 * How frames get into and out of the CPU (wasm) pipelines, shared by all of them: a 2D canvas
 * turns a VideoFrame into RGBA bytes, and planar tensors go back through the frame-tensor CPU
 * implementation into a canvas the output VideoFrame is made from. Canvases are made once.
 */
import { rgbaToTensorRef, tensorToRgbaInto } from '../kernels/frame-tensor/frame-tensor.ref.ts';
import type { TensorRange } from '../kernels/frame-tensor/frame-tensor.ts';
import { deinterlaceRgba, type PictureScan } from '../shared/deinterlace-rows.ts';
import { UpframeError } from '../shared/errors.ts';
import type { EnhancerStats, FrameEnhancer } from './enhancer.ts';
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

/**
 * A VideoFrame's pixels as RGBA bytes through a 2D canvas. With deinterlacing on, the rule of
 * shared/deinterlace-rows.ts on RGB, as the GPU input's WGSL kernel does it (bit for bit on the
 * same RGBA), with the frame before as the previous frame.
 */
export class CpuFrameInput {
  private readonly ctx: OffscreenCanvasRenderingContext2D;
  /** The field kept, 'progressive' (frames pass, each kept as the previous), or null: off. */
  private fields: PictureScan | null = null;
  /** The previous frame's pixels (each read is a new array, so keeping it copies nothing). */
  private previous: Uint8Array | null = null;
  private progressive: Uint8Array<ArrayBuffer> | null = null;

  constructor(
    readonly width: number,
    readonly height: number,
  ) {
    this.ctx = context2d(width, height, true);
  }

  /**
   * Deinterlace the frames from now on, keeping the field that comes first, or let them pass
   * ('progressive'), or stop (null); turned on or off, the next frame has no previous one, and
   * changed while on, it keeps it (as the GPU input, frame-io.ts).
   */
  setDeinterlace(fields: PictureScan | null): void {
    if ((this.fields === null) !== (fields === null)) this.reset();
    this.fields = fields;
  }

  /** The next frame has no previous one. */
  reset(): void {
    this.previous = null;
  }

  /** The frame's pixels as RGBA bytes, row by row, at width x height (deinterlaced when on). */
  pixels(frame: VideoFrame): Uint8Array {
    const raw = this.read(frame);
    if (!this.fields) return raw;
    if (this.fields === 'progressive') {
      this.previous = raw;
      return raw;
    }
    this.progressive ??= new Uint8Array(this.width * this.height * 4);
    const bottomFirst = this.fields === 'bottom-first';
    deinterlaceRgba(raw, this.previous, this.progressive, this.width, this.height, bottomFirst);
    this.previous = raw;
    return this.progressive;
  }

  /** While deinterlacing: `frame` becomes the previous frame for the next `pixels`. */
  remember(frame: VideoFrame): void {
    if (this.fields) this.previous = this.read(frame);
  }

  private read(frame: VideoFrame): Uint8Array {
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

/** A whole-frame model on the CPU: one planar RGB tensor in, one planar RGB tensor out. */
export interface CpuTensorCore {
  /** Forget the temporal state (a cut, or a new clip). */
  reset(): void;
  /** [3, inputHeight, inputWidth] in `range` -> [3, outputHeight, outputWidth] in `range`. */
  run(input: Float32Array): Promise<Float32Array>;
  release(): Promise<void>;
}

export interface CpuTensorGeometry {
  readonly inputWidth: number;
  readonly inputHeight: number;
  readonly outputWidth: number;
  readonly outputHeight: number;
}

/**
 * The wasm FrameEnhancer around a CpuTensorCore (Upframe-lite and DLoRAL): the frame's pixels
 * into a reused input tensor, the core, and the result out through CpuFrameOutput.
 */
export class CpuTensorEnhancer implements FrameEnhancer {
  readonly backend = 'wasm' as const;
  readonly outputWidth: number;
  readonly outputHeight: number;
  private readonly input: CpuFrameInput;
  private readonly output: CpuFrameOutput;
  /** The input tensor, reused: no core keeps a reference to it between frames. */
  private readonly tensor: Float32Array<ArrayBuffer>;
  private frames = 0;

  constructor(
    readonly name: string,
    private readonly core: CpuTensorCore,
    private readonly geometry: CpuTensorGeometry,
    private readonly range: TensorRange,
  ) {
    this.outputWidth = geometry.outputWidth;
    this.outputHeight = geometry.outputHeight;
    this.input = new CpuFrameInput(geometry.inputWidth, geometry.inputHeight);
    this.output = new CpuFrameOutput(geometry.outputWidth, geometry.outputHeight);
    this.tensor = new Float32Array(3 * geometry.inputWidth * geometry.inputHeight);
  }

  reset(): void {
    this.core.reset();
    this.input.reset();
  }

  setDeinterlace(fields: PictureScan | null): void {
    this.input.setDeinterlace(fields);
  }

  rememberFrame(frame: VideoFrame): Promise<void> {
    this.input.remember(frame);
    return Promise.resolve();
  }

  emitRgb(): void {
    this.output.sourceColour = false;
  }

  async process(frame: VideoFrame): Promise<VideoFrame> {
    const { inputWidth: w, inputHeight: h } = this.geometry;
    const region = { x: 0, y: 0, width: w, height: h };
    const rgba = this.input.pixels(frame);
    const out = await this.core.run(rgbaToTensorRef(rgba, w, h, region, this.range, this.tensor));
    this.frames += 1;
    return this.output.emit(out, this.range, frame);
  }

  stats(): EnhancerStats {
    return { frames: this.frames, readbacks: 0, allocationsAfterFirstFrame: 0, gpuBytes: 0 };
  }

  async close(): Promise<void> {
    await this.core.release();
  }
}
