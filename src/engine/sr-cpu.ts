/**
 * The `sr` pipeline on ORT's wasm backend, for browsers without WebGPU (or when the user picks
 * it): the same tile plan and blending as the GPU path, with the kernels' CPU implementations
 * (temporal fusion included, see temporal-cfr.ts).
 */
import { CpuFrameInput, CpuFrameOutput } from './cpu-frame-io.ts';
import { rgbaToTensorRef } from '../kernels/frame-tensor/frame-tensor.ref.ts';
import { accumulateRef, resolveRef } from '../kernels/tile-blend/tile-blend.ref.ts';
import { UpframeError } from '../shared/errors.ts';
import type { EnhancerStats, FrameEnhancer, SrModelSpec } from './enhancer.ts';
import { cpuTensor, tensorData, type Session } from './ort.ts';
import { TemporalFusionCpu } from './temporal-cfr.ts';
import { outputPlacement, type TilePlan } from './tiling.ts';
import type { PictureScan } from '../shared/deinterlace-rows.ts';

export class SrCpuEnhancer implements FrameEnhancer {
  readonly backend = 'wasm' as const;
  readonly outputWidth: number;
  readonly outputHeight: number;
  private readonly input: CpuFrameInput;
  private readonly output: CpuFrameOutput;
  private readonly acc: Float32Array;
  private readonly weight: Float32Array;
  private readonly temporalFusion: TemporalFusionCpu | null;
  private frames = 0;

  constructor(
    private readonly session: Session,
    private readonly spec: SrModelSpec,
    private readonly plan: TilePlan,
    /** Fuse each frame with the previous one (training-free CFR) before the model. */
    readonly temporal = false,
  ) {
    this.outputWidth = plan.frameWidth * spec.scale;
    this.outputHeight = plan.frameHeight * spec.scale;
    this.input = new CpuFrameInput(plan.frameWidth, plan.frameHeight);
    this.output = new CpuFrameOutput(this.outputWidth, this.outputHeight);
    this.acc = new Float32Array(3 * this.outputWidth * this.outputHeight);
    this.weight = new Float32Array(this.outputWidth * this.outputHeight);
    this.temporalFusion = temporal
      ? new TemporalFusionCpu(plan.frameWidth, plan.frameHeight)
      : null;
  }

  get name(): string {
    return this.spec.name;
  }

  reset(): void {
    this.temporalFusion?.reset();
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
    const { plan, spec } = this;
    const s = spec.scale;
    const pixels = this.input.pixels(frame);
    const bytes = this.temporalFusion ? this.temporalFusion.process(pixels) : pixels;
    const frameOut = { width: this.outputWidth, height: this.outputHeight };
    this.acc.fill(0);
    this.weight.fill(0);
    let final: Float32Array | null = null;
    for (const tile of plan.tiles) {
      const region = { x: tile.x, y: tile.y, width: plan.tileWidth, height: plan.tileHeight };
      const tensor = rgbaToTensorRef(
        bytes,
        plan.frameWidth,
        plan.frameHeight,
        region,
        spec.inputRange,
      );
      const result = await this.session.run({
        [spec.inputName]: cpuTensor(tensor, [1, 3, plan.tileHeight, plan.tileWidth]),
      });
      const out = result[spec.outputName];
      if (!out)
        throw new UpframeError(
          'INTERNAL',
          `Internal error: the model gave no "${spec.outputName}".`,
        );
      if (plan.tiles.length === 1) {
        final = tensorData(out);
        break;
      }
      accumulateRef(
        3,
        tensorData(out),
        this.acc,
        this.weight,
        outputPlacement(tile, plan.tileWidth, plan.tileHeight, s),
        frameOut,
      );
      out.dispose();
    }
    final ??= resolveRef(3, this.acc, this.weight, frameOut);
    this.frames += 1;
    return this.output.emit(final, spec.outputRange, frame);
  }

  stats(): EnhancerStats {
    return { frames: this.frames, readbacks: 0, allocationsAfterFirstFrame: 0, gpuBytes: 0 };
  }

  async close(): Promise<void> {
    await this.session.release();
  }
}
