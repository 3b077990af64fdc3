import type { TensorRange } from '../kernels/frame-tensor/frame-tensor.ts';
import type { PictureScan } from '../shared/deinterlace-rows.ts';

/**
 * What every enhancement pipeline offers the job: frames in, frames out, at a fixed output size.
 * The worker's transcode loop owns the frames it passes in; `process` returns a NEW frame that the
 * caller closes.
 */
export interface EnhancerStats {
  readonly frames: number;
  /** GPU-to-CPU copies since the enhancer was created (0 per frame on the zero-copy path). */
  readonly readbacks: number;
  /** GPU buffers created after the first frame (0 in the steady state). */
  readonly allocationsAfterFirstFrame: number;
  readonly gpuBytes: number;
}

export interface FrameEnhancer {
  readonly name: string;
  readonly backend: 'webgpu' | 'wasm';
  readonly outputWidth: number;
  readonly outputHeight: number;
  process(frame: VideoFrame): Promise<VideoFrame>;
  /**
   * Forget the previous frame (temporal pipelines keep one): the next frame is its own
   * reference. A job calls it before its first frame, so a preview never leaks into a render.
   */
  reset(): void;
  /**
   * Deinterlace each frame before the model from now on (the rule of shared/deinterlace-rows.ts
   * on the frame's RGB, on the same backend as the model), keeping the field that comes first,
   * or let frames pass ('progressive', still kept as the previous frame), or stop (null). Turned
   * on or off, the next frame has no previous one; changed while on (per picture, for a stream
   * that changes between fields and frames), it keeps it. Off until called.
   */
  setDeinterlace(fields: PictureScan | null): void;
  /**
   * While deinterlacing: `frame` becomes the previous frame of the next `process`, without
   * being enhanced (a preview decodes the frame before the one it shows for this).
   */
  rememberFrame(frame: VideoFrame): Promise<void>;
  /**
   * Emit RGB frames from now on instead of I420 in the source's colour space (yuv-output.ts):
   * for pixel comparisons against RGB references (the benchmark's peer, the evaluation).
   */
  emitRgb(): void;
  stats(): EnhancerStats;
  close(): Promise<void>;
}

export interface SrModelSpec {
  readonly name: string;
  readonly scale: number;
  readonly inputName: string;
  readonly outputName: string;
  readonly inputRange: TensorRange;
  readonly outputRange: TensorRange;
}
