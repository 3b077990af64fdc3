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

/** An rgba8unorm texture the size of the input frame, refilled each frame. */
export class FrameInput {
  readonly texture: GPUTexture;

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
        GPUTextureUsage.COPY_DST |
        GPUTextureUsage.RENDER_ATTACHMENT,
    });
  }

  async upload(frame: VideoFrame): Promise<void> {
    const bitmap = await createImageBitmap(frame);
    try {
      this.device.queue.copyExternalImageToTexture(
        { source: bitmap },
        { texture: this.texture },
        { width: this.width, height: this.height },
      );
    } finally {
      bitmap.close();
    }
  }

  destroy(): void {
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
