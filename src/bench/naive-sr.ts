/**
 * The naive WebGPU `sr` pipeline the zero-copy path is measured against: what an app does when it
 * treats the GPU model as a function on CPU arrays. Per frame: draw the frame into a 2D canvas and
 * read its pixels, build a CPU tensor per tile, let ORT upload it, run, read the output tensor
 * back (counted, through gpu/readback.ts), blend on the CPU, and build a new frame from the pixels.
 */
import { Session, cpuTensor, type OrtTensor } from '../engine/ort.ts';
import type { EnhancerStats, FrameEnhancer } from '../engine/enhancer.ts';
import { CpuFrameInput } from '../engine/cpu-frame-io.ts';
import { srSpec } from '../engine/create-enhancer.ts';
import { packFile, type LoadedPack } from '../engine/packs.ts';
import { outputPlacement, type TilePlan } from '../engine/tiling.ts';
import { readFloat32, readbackCount } from '../gpu/readback.ts';
import { rgbaToTensorRef, tensorToRgbaRef } from '../kernels/frame-tensor/frame-tensor.ref.ts';
import { accumulateRef, resolveRef } from '../kernels/tile-blend/tile-blend.ref.ts';
import type { PictureScan } from '../shared/deinterlace-rows.ts';

export class NaiveGpuSrEnhancer implements FrameEnhancer {
  readonly backend = 'webgpu' as const;
  readonly outputWidth: number;
  readonly outputHeight: number;
  private readonly input: CpuFrameInput;
  private readonly output: OffscreenCanvasRenderingContext2D;
  private frames = 0;
  private readonly readbacksAtStart = readbackCount();

  private constructor(
    private readonly device: GPUDevice,
    private readonly session: Session,
    private readonly spec: ReturnType<typeof srSpec>,
    private readonly plan: TilePlan,
  ) {
    this.outputWidth = plan.frameWidth * spec.scale;
    this.outputHeight = plan.frameHeight * spec.scale;
    this.input = new CpuFrameInput(plan.frameWidth, plan.frameHeight);
    const output = new OffscreenCanvas(this.outputWidth, this.outputHeight).getContext('2d');
    if (!output) throw new Error('No 2D canvas for the naive pipeline.');
    this.output = output;
  }

  static async create(
    pack: LoadedPack,
    device: GPUDevice,
    plan: TilePlan,
  ): Promise<NaiveGpuSrEnhancer> {
    const session = await Session.create(packFile(pack), {
      backend: 'webgpu',
      device,
      name: pack.manifest.title,
    });
    return new NaiveGpuSrEnhancer(device, session, srSpec(pack.manifest), plan);
  }

  get name(): string {
    return `${this.spec.name} (naive round trips)`;
  }

  reset(): void {
    this.input.reset();
  }

  /** Deinterlaces on the CPU (the naive way: the frame's pixels are on the CPU anyway). */
  setDeinterlace(fields: PictureScan | null): void {
    this.input.setDeinterlace(fields);
  }

  rememberFrame(frame: VideoFrame): Promise<void> {
    this.input.remember(frame);
    return Promise.resolve();
  }

  emitRgb(): void {
    // its frames are RGB already
  }

  async process(frame: VideoFrame): Promise<VideoFrame> {
    const { plan, spec } = this;
    const s = spec.scale;
    const bytes = this.input.pixels(frame);
    const frameOut = { width: this.outputWidth, height: this.outputHeight };
    const acc = new Float32Array(3 * frameOut.width * frameOut.height);
    const weight = new Float32Array(frameOut.width * frameOut.height);
    let final: Float32Array | null = null;
    for (const tile of plan.tiles) {
      const dims = [1, 3, plan.tileHeight, plan.tileWidth];
      const tensor = rgbaToTensorRef(
        bytes,
        plan.frameWidth,
        plan.frameHeight,
        { x: tile.x, y: tile.y, width: plan.tileWidth, height: plan.tileHeight },
        spec.inputRange,
      );
      const result = await this.session.run({ [spec.inputName]: cpuTensor(tensor, dims) });
      const out: OrtTensor | undefined = result[spec.outputName];
      if (!out) throw new Error(`The model gave no "${spec.outputName}".`);
      const count = 3 * plan.tileWidth * s * plan.tileHeight * s;
      const data =
        out.location === 'gpu-buffer'
          ? await readFloat32(this.device, out.gpuBuffer, count)
          : (out.data as Float32Array);
      out.dispose();
      if (plan.tiles.length === 1) {
        final = data;
        break;
      }
      accumulateRef(
        3,
        data,
        acc,
        weight,
        outputPlacement(tile, plan.tileWidth, plan.tileHeight, s),
        frameOut,
      );
    }
    final ??= resolveRef(3, acc, weight, frameOut);
    const outRgba = tensorToRgbaRef(
      final,
      { x: 0, y: 0, ...frameOut },
      frameOut.width,
      frameOut.height,
      spec.outputRange,
    );
    this.output.putImageData(
      new ImageData(new Uint8ClampedArray(outRgba.buffer), frameOut.width, frameOut.height),
      0,
      0,
    );
    this.frames += 1;
    return new VideoFrame(this.output.canvas, {
      timestamp: frame.timestamp,
      ...(frame.duration === null ? {} : { duration: frame.duration }),
    });
  }

  stats(): EnhancerStats {
    return {
      frames: this.frames,
      readbacks: readbackCount() - this.readbacksAtStart,
      // ORT allocates the input upload and output buffers inside each run; not counted here
      allocationsAfterFirstFrame: 0,
      gpuBytes: 0,
    };
  }

  async close(): Promise<void> {
    await this.session.release();
  }
}
