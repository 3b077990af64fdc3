/**
 * The zero-copy `sr` pipeline on WebGPU: VideoFrame -> texture -> frame-tensor (per tile) ->
 * ORT on GPU buffers -> tile-blend -> frame-tensor inverse -> texture -> canvas -> VideoFrame.
 * Every buffer, texture and bind group is made once per job; a frame only encodes and submits.
 *
 * Output modes: 'canvas' hands the output texture to the encoder through a WebGPU canvas with
 * no readback. 'readback' copies it to the CPU once per frame (one counted readback, buffers
 * reused): on SwiftShader (Chromium 156) taking any snapshot of a WebGPU canvas destroys every
 * device of the page, so software adapters must use it.
 */
export type OutputMode = 'canvas' | 'readback';

/** Which output mode an adapter can use (see above); a real GPU uses the zero-copy canvas. */
export function outputModeFor(info: {
  architecture: string;
  isFallbackAdapter: boolean;
}): OutputMode {
  return info.isFallbackAdapter || info.architecture === 'swiftshader' ? 'readback' : 'canvas';
}
import { BufferPool } from '../gpu/pool.ts';
import { readbackCount, TextureReader } from '../gpu/readback.ts';
import {
  prepareFromTensor,
  prepareToTensor,
  type PreparedDispatch,
} from '../kernels/frame-tensor/frame-tensor.ts';
import {
  prepareAccumulate,
  prepareResolve,
  type PreparedBlend,
} from '../kernels/tile-blend/tile-blend.ts';
import { UpframeError } from '../shared/errors.ts';
import type { EnhancerStats, FrameEnhancer, SrModelSpec } from './enhancer.ts';
import { gpuTensor, type OrtTensor, type Session } from './ort.ts';
import type { TilePlan } from './tiling.ts';

const STORAGE = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;

interface TileSlot {
  readonly toTensor: PreparedDispatch;
  readonly blend: PreparedBlend | null;
}

export class SrGpuEnhancer implements FrameEnhancer {
  readonly backend = 'webgpu' as const;
  readonly outputWidth: number;
  readonly outputHeight: number;
  private readonly pool: BufferPool;
  private readonly inputTexture: GPUTexture;
  private readonly outputTexture: GPUTexture;
  private readonly canvas: OffscreenCanvas | null = null;
  private readonly context: GPUCanvasContext | null = null;
  private readonly reader: TextureReader | null = null;
  private readonly slots: TileSlot[];
  private readonly finish: PreparedDispatch;
  private readonly resolve: { encode(e: GPUCommandEncoder): void; destroy(): void } | null;
  private readonly clearTargets: GPUBuffer[];
  private readonly feeds: Record<string, OrtTensor>;
  private readonly fetches: Record<string, OrtTensor>;
  private frames = 0;
  private allocationsAtFirstFrame = -1;
  private readonly readbacksAtStart = readbackCount();

  constructor(
    private readonly device: GPUDevice,
    private readonly session: Session,
    private readonly spec: SrModelSpec,
    private readonly plan: TilePlan,
    readonly outputMode: OutputMode,
  ) {
    const s = spec.scale;
    const { frameWidth: w, frameHeight: h, tileWidth: tw, tileHeight: th } = plan;
    this.outputWidth = w * s;
    this.outputHeight = h * s;
    const limit = device.limits.maxTextureDimension2D;
    if (this.outputWidth > limit || this.outputHeight > limit) {
      throw new UpframeError(
        'RESOLUTION_TOO_LARGE',
        `The enhanced frame would be ${this.outputWidth}x${this.outputHeight}, larger than this GPU allows (${limit} pixels per side). Choose a smaller scale.`,
      );
    }
    this.pool = new BufferPool(device);
    this.inputTexture = device.createTexture({
      size: { width: w, height: h },
      format: 'rgba8unorm',
      usage:
        GPUTextureUsage.TEXTURE_BINDING |
        GPUTextureUsage.COPY_DST |
        GPUTextureUsage.RENDER_ATTACHMENT,
    });
    this.outputTexture = device.createTexture({
      size: { width: this.outputWidth, height: this.outputHeight },
      format: 'rgba8unorm',
      usage:
        GPUTextureUsage.STORAGE_BINDING |
        GPUTextureUsage.COPY_SRC |
        GPUTextureUsage.TEXTURE_BINDING,
    });
    if (outputMode === 'canvas') {
      this.canvas = new OffscreenCanvas(this.outputWidth, this.outputHeight);
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
      this.reader = new TextureReader(device, this.outputWidth, this.outputHeight);
    }

    const tileIn = this.pool.acquire(3 * tw * th * 4, STORAGE);
    const tileOut = this.pool.acquire(3 * tw * s * th * s * 4, STORAGE);
    this.feeds = { [spec.inputName]: gpuTensor(tileIn, [1, 3, th, tw]) };
    this.fetches = { [spec.outputName]: gpuTensor(tileOut, [1, 3, th * s, tw * s]) };
    const single = plan.tiles.length === 1;
    const frameOut = { width: this.outputWidth, height: this.outputHeight };
    let finalTensor = tileOut;
    let acc: GPUBuffer | null = null;
    let weight: GPUBuffer | null = null;
    if (!single) {
      acc = this.pool.acquire(3 * frameOut.width * frameOut.height * 4, STORAGE);
      weight = this.pool.acquire(frameOut.width * frameOut.height * 4, STORAGE);
      finalTensor = this.pool.acquire(3 * frameOut.width * frameOut.height * 4, STORAGE);
    }
    this.clearTargets = acc && weight ? [acc, weight] : [];
    this.slots = plan.tiles.map((tile) => ({
      toTensor: prepareToTensor(device, this.inputTexture, tileIn, {
        region: { x: tile.x, y: tile.y, width: tw, height: th },
        range: spec.inputRange,
      }),
      blend:
        acc && weight
          ? prepareAccumulate(
              device,
              3,
              { tileOutput: tileOut, acc, weight },
              {
                x: tile.x * s,
                y: tile.y * s,
                width: tw * s,
                height: th * s,
                rampLeft: tile.rampLeft * s,
                rampRight: tile.rampRight * s,
                rampTop: tile.rampTop * s,
                rampBottom: tile.rampBottom * s,
              },
              frameOut,
            )
          : null,
    }));
    this.resolve =
      acc && weight
        ? prepareResolve(device, 3, { acc, weight, output: finalTensor }, frameOut)
        : null;
    this.finish = prepareFromTensor(device, finalTensor, this.outputTexture, {
      region: { x: 0, y: 0, ...frameOut },
      range: spec.outputRange,
    });
  }

  get name(): string {
    return this.spec.name;
  }

  async process(frame: VideoFrame): Promise<VideoFrame> {
    const { device } = this;
    // Importing a VideoFrame straight into WebGPU (copyExternalImageToTexture or
    // importExternalTexture) drops the whole GPU instance in Chromium 156 on SwiftShader; going
    // through an ImageBitmap stays on the GPU where the frame is GPU-backed and works everywhere.
    const bitmap = await createImageBitmap(frame);
    try {
      device.queue.copyExternalImageToTexture(
        { source: bitmap },
        { texture: this.inputTexture },
        { width: this.plan.frameWidth, height: this.plan.frameHeight },
      );
    } finally {
      bitmap.close();
    }
    if (this.clearTargets.length > 0) {
      const encoder = device.createCommandEncoder();
      for (const target of this.clearTargets) encoder.clearBuffer(target);
      device.queue.submit([encoder.finish()]);
    }
    for (const slot of this.slots) {
      const before = device.createCommandEncoder();
      slot.toTensor.encode(before);
      device.queue.submit([before.finish()]);
      // ORT submits its own work on the same queue, so queue order keeps tileIn/tileOut safe
      await this.session.run(this.feeds, this.fetches);
      if (slot.blend) {
        const after = device.createCommandEncoder();
        slot.blend.encode(after);
        device.queue.submit([after.finish()]);
      }
    }
    const encoder = device.createCommandEncoder();
    this.resolve?.encode(encoder);
    this.finish.encode(encoder);
    const init = {
      timestamp: frame.timestamp,
      ...(frame.duration === null ? {} : { duration: frame.duration }),
    };
    let out: VideoFrame;
    if (this.context && this.canvas) {
      encoder.copyTextureToTexture(
        { texture: this.outputTexture },
        { texture: this.context.getCurrentTexture() },
        { width: this.outputWidth, height: this.outputHeight },
      );
      device.queue.submit([encoder.finish()]);
      out = new VideoFrame(this.canvas, init);
    } else if (this.reader) {
      this.reader.encodeCopy(encoder, this.outputTexture);
      device.queue.submit([encoder.finish()]);
      const rgba = await this.reader.read();
      out = new VideoFrame(rgba, {
        ...init,
        format: 'RGBA',
        codedWidth: this.outputWidth,
        codedHeight: this.outputHeight,
        layout: [{ offset: 0, stride: this.reader.bytesPerRow }],
      });
    } else {
      throw new UpframeError('INTERNAL', 'Internal error: the enhancer has no output path.');
    }
    this.frames += 1;
    if (this.frames === 1) this.allocationsAtFirstFrame = this.pool.stats().allocations;
    return out;
  }

  stats(): EnhancerStats {
    const pool = this.pool.stats();
    return {
      frames: this.frames,
      readbacks: readbackCount() - this.readbacksAtStart,
      allocationsAfterFirstFrame:
        this.allocationsAtFirstFrame < 0 ? 0 : pool.allocations - this.allocationsAtFirstFrame,
      gpuBytes:
        pool.peakBytes +
        4 *
          (this.plan.frameWidth * this.plan.frameHeight + 2 * this.outputWidth * this.outputHeight),
    };
  }

  async close(): Promise<void> {
    for (const slot of this.slots) {
      slot.toTensor.destroy();
      slot.blend?.destroy();
    }
    this.resolve?.destroy();
    this.finish.destroy();
    this.context?.unconfigure();
    this.reader?.destroy();
    this.inputTexture.destroy();
    this.outputTexture.destroy();
    this.pool.destroy();
    await this.session.release();
  }
}
