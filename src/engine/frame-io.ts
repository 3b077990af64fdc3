/**
 * How frames get onto and off the GPU, shared by every WebGPU pipeline.
 *
 * In: createImageBitmap(frame) -> copyExternalImageToTexture. Importing a VideoFrame straight into
 * WebGPU (copyExternalImageToTexture or importExternalTexture) drops the whole GPU instance in
 * Chromium 156 on SwiftShader; the ImageBitmap stays on the GPU where the frame is GPU-backed.
 *
 * Out: 'canvas' hands the output texture to the encoder through a WebGPU canvas with no readback.
 * 'readback' copies it to the CPU once per frame (one counted readback, buffers reused): on
 * SwiftShader taking any snapshot of a WebGPU canvas destroys every device of the page, so
 * software adapters must use it.
 */
import { TextureReader } from '../gpu/readback.ts';
import {
  prepareDeinterlace,
  type PreparedDeinterlace,
} from '../kernels/deinterlace/deinterlace.ts';
import type { PictureScan } from '../shared/deinterlace-rows.ts';
import { UpframeError } from '../shared/errors.ts';
import { YuvFrameMaker } from './yuv-output.ts';

export type OutputMode = 'canvas' | 'readback';

/** Which output mode an adapter can use (see above); a real GPU uses the zero-copy canvas. */
export function outputModeFor(info: {
  architecture: string;
  isFallbackAdapter: boolean;
}): OutputMode {
  return info.isFallbackAdapter || info.architecture === 'swiftshader' ? 'readback' : 'canvas';
}

/** The input frame's own times, for the frame made from it. */
export function frameTimes(frame: VideoFrame): { timestamp: number; duration?: number } {
  return {
    timestamp: frame.timestamp,
    ...(frame.duration === null ? {} : { duration: frame.duration }),
  };
}

/**
 * `frame` as a frame shown at its visible size, or null when it already is. A frame with
 * non-square pixels (DVD, HDV and AVCHD's 1440x1080) is drawn and turned into an ImageBitmap at
 * its display size: read at the visible size from there, its columns would be cut off (a copy
 * of the bitmap's first `width` columns) or resampled twice (drawn into a canvas of the visible
 * size). The new frame shares the pixels (no copy); the caller closes it.
 */
export function atVisibleSize(frame: VideoFrame): VideoFrame | null {
  const rect = frame.visibleRect;
  if (!rect || (frame.displayWidth === rect.width && frame.displayHeight === rect.height)) {
    return null;
  }
  return new VideoFrame(frame, {
    timestamp: frame.timestamp,
    displayWidth: rect.width,
    displayHeight: rect.height,
  });
}

/** The two frames a deinterlacing input keeps (the current and the previous one) and its passes. */
interface Fields {
  readonly raw: readonly [GPUTexture, GPUTexture];
  /** passes[i] deinterlaces raw[i] with raw[1 - i] as the previous frame. */
  readonly passes: readonly [PreparedDeinterlace, PreparedDeinterlace];
  /** Which raw texture the next frame goes into. */
  next: 0 | 1;
  hasPrevious: boolean;
  bottomFirst: boolean;
  /** The frames are progressive for now: they pass through, each kept as the previous one. */
  progressive: boolean;
}

/**
 * An rgba8unorm texture the size of the input frame, refilled each frame. With deinterlacing on,
 * each frame goes into one of two textures of its own and the WGSL kernel writes the progressive
 * frame (shared/deinterlace-rows.ts's rule on RGB) into `texture`, with the frame before as
 * the previous frame: nothing leaves the GPU and nothing is allocated per frame.
 */
export class FrameInput {
  readonly texture: GPUTexture;
  private fields: Fields | null = null;
  private deinterlacing = false;

  constructor(
    private readonly device: GPUDevice,
    readonly width: number,
    readonly height: number,
  ) {
    this.texture = device.createTexture({
      size: { width, height },
      format: 'rgba8unorm',
      usage:
        GPUTextureUsage.TEXTURE_BINDING |
        GPUTextureUsage.STORAGE_BINDING |
        GPUTextureUsage.COPY_DST |
        GPUTextureUsage.RENDER_ATTACHMENT,
    });
  }

  /** Bytes of GPU memory beyond `texture` (the deinterlacer's two frames once it is used). */
  get extraBytes(): number {
    return this.fields ? 2 * 4 * this.width * this.height : 0;
  }

  /**
   * Deinterlace the frames from now on, keeping the field that comes first, or let them pass
   * ('progressive': the next one still has this one as its previous frame), or stop (null).
   * Turned on or off, the next frame has no previous one; changed while on (a stream whose
   * pictures change between fields and frames), it keeps it. The deinterlacer's textures are
   * made the first time it is turned on and kept.
   */
  setDeinterlace(fields: PictureScan | null): void {
    const was = this.deinterlacing;
    this.deinterlacing = fields !== null;
    if (fields && !this.fields) {
      const raw = [0, 1].map(() =>
        this.device.createTexture({
          size: { width: this.width, height: this.height },
          format: 'rgba8unorm',
          usage:
            GPUTextureUsage.TEXTURE_BINDING |
            GPUTextureUsage.COPY_DST |
            GPUTextureUsage.RENDER_ATTACHMENT,
        }),
      ) as [GPUTexture, GPUTexture];
      const pass = (i: 0 | 1) =>
        prepareDeinterlace(this.device, { cur: raw[i], prev: raw[1 - i]!, out: this.texture });
      this.fields = {
        raw,
        passes: [pass(0), pass(1)],
        next: 0,
        hasPrevious: false,
        bottomFirst: false,
        progressive: false,
      };
    }
    if (this.fields && fields) {
      this.fields.bottomFirst = fields === 'bottom-first';
      this.fields.progressive = fields === 'progressive';
    }
    if (was !== this.deinterlacing) this.reset();
  }

  /** The next frame has no previous one (a new clip, a cut, a render resumed at a key frame). */
  reset(): void {
    if (this.fields) this.fields.hasPrevious = false;
  }

  async upload(frame: VideoFrame): Promise<void> {
    const fields = this.deinterlacing ? this.fields : null;
    if (!fields) {
      await this.copy(frame, this.texture);
      return;
    }
    const i = fields.next;
    if (fields.progressive) {
      await this.copy(frame, fields.raw[i], this.texture);
    } else {
      await this.copy(frame, fields.raw[i]);
      const encoder = this.device.createCommandEncoder();
      fields.passes[i].encode(encoder, fields.hasPrevious, fields.bottomFirst);
      this.device.queue.submit([encoder.finish()]);
    }
    fields.next = i === 0 ? 1 : 0;
    fields.hasPrevious = true;
  }

  /**
   * While deinterlacing: `frame` becomes the previous frame for the next upload, and `texture`
   * is left as it was (a preview decodes the frame before the one it shows only for this).
   */
  async remember(frame: VideoFrame): Promise<void> {
    const fields = this.deinterlacing ? this.fields : null;
    if (!fields) return;
    await this.copy(frame, fields.raw[fields.next]);
    fields.next = fields.next === 0 ? 1 : 0;
    fields.hasPrevious = true;
  }

  private async copy(frame: VideoFrame, ...textures: GPUTexture[]): Promise<void> {
    const visible = atVisibleSize(frame);
    let bitmap: ImageBitmap;
    try {
      bitmap = await createImageBitmap(visible ?? frame);
    } finally {
      visible?.close();
    }
    try {
      for (const texture of textures) {
        this.device.queue.copyExternalImageToTexture(
          { source: bitmap },
          { texture },
          { width: this.width, height: this.height },
        );
      }
    } finally {
      bitmap.close();
    }
  }

  destroy(): void {
    if (this.fields) {
      for (const pass of this.fields.passes) pass.destroy();
      for (const raw of this.fields.raw) raw.destroy();
    }
    this.texture.destroy();
  }
}

/** The output texture (written by a kernel as storage) and the way it becomes a VideoFrame. */
export class FrameOutput {
  readonly texture: GPUTexture;
  private readonly canvas: OffscreenCanvas | null = null;
  private readonly context: GPUCanvasContext | null = null;
  private readonly reader: TextureReader | null = null;
  private readonly yuv: YuvFrameMaker;
  /** false: RGB frames (see FrameEnhancer.emitRgb). */
  sourceColour = true;

  constructor(
    private readonly device: GPUDevice,
    readonly width: number,
    readonly height: number,
    readonly mode: OutputMode,
  ) {
    const limit = device.limits.maxTextureDimension2D;
    if (width > limit || height > limit) {
      throw new UpframeError(
        'RESOLUTION_TOO_LARGE',
        `The enhanced frame would be ${width}x${height}, larger than this GPU allows (${limit} pixels per side). Choose a smaller scale.`,
      );
    }
    this.yuv = new YuvFrameMaker(width, height);
    this.texture = device.createTexture({
      size: { width, height },
      format: 'rgba8unorm',
      usage:
        GPUTextureUsage.STORAGE_BINDING |
        GPUTextureUsage.COPY_SRC |
        GPUTextureUsage.TEXTURE_BINDING,
    });
    if (mode === 'canvas') {
      this.canvas = new OffscreenCanvas(width, height);
      const context = this.canvas.getContext('webgpu');
      if (!context) {
        throw new UpframeError(
          'WEBGPU_UNAVAILABLE',
          'This browser cannot draw WebGPU output into a canvas.',
        );
      }
      context.configure({
        device,
        format: 'rgba8unorm',
        usage: GPUTextureUsage.COPY_DST | GPUTextureUsage.RENDER_ATTACHMENT,
        alphaMode: 'opaque',
      });
      this.context = context;
    } else {
      this.reader = new TextureReader(device, width, height);
    }
  }

  /**
   * Finishes and submits `encoder` (whose work wrote the texture) and returns the frame. On the
   * readback path the frame is I420 in `colorSpace` (the source frame's) where yuv-output.ts can
   * convert to it; the canvas path hands RGB to the encoder.
   */
  async emit(
    encoder: GPUCommandEncoder,
    times: { timestamp: number; duration?: number },
    colorSpace?: VideoColorSpaceInit | null,
  ): Promise<VideoFrame> {
    const size = { width: this.width, height: this.height };
    if (this.context && this.canvas) {
      encoder.copyTextureToTexture(
        { texture: this.texture },
        { texture: this.context.getCurrentTexture() },
        size,
      );
      this.device.queue.submit([encoder.finish()]);
      return new VideoFrame(this.canvas, times);
    }
    if (!this.reader) throw new UpframeError('INTERNAL', 'Internal error: no output path.');
    this.reader.encodeCopy(encoder, this.texture);
    this.device.queue.submit([encoder.finish()]);
    const rgba = await this.reader.read();
    const yuv = this.sourceColour
      ? this.yuv.make(rgba, this.reader.bytesPerRow, colorSpace, times)
      : null;
    if (yuv) return yuv;
    return new VideoFrame(rgba, {
      ...times,
      format: 'RGBA',
      codedWidth: this.width,
      codedHeight: this.height,
      layout: [{ offset: 0, stride: this.reader.bytesPerRow }],
    });
  }

  destroy(): void {
    this.context?.unconfigure();
    this.reader?.destroy();
    this.texture.destroy();
  }
}
