/**
 * Plain data the bench page returns to `npm run bench` / `npm run eval` (scripts/bench, scripts/eval).
 * Everything here survives page.evaluate's structured serialisation (no typed arrays: pixels
 * travel as base64).
 */
import type { GpuInfo } from '../gpu/device.ts';

export type MemorySource = 'performance.memory' | 'none';

export interface EnvInfo {
  readonly userAgent: string;
  readonly hardwareConcurrency: number;
  readonly crossOriginIsolated: boolean;
  readonly gpu: GpuInfo | null;
  readonly gpuError: string | null;
  /** Which API the heap figures come from (performance.memory needs --enable-precise-memory-info). */
  readonly memorySource: MemorySource;
}

export interface StageMs {
  /** Waiting for demux + decode, per frame. */
  readonly decode: number;
  /** Inside the enhancer (or the identity copy), per frame. */
  readonly enhance: number;
  /** Waiting on encode + mux, per frame (flush and finalize included). */
  readonly encode: number;
}

export interface RunFigures {
  readonly frames: number;
  readonly seconds: number;
  readonly fps: number;
  readonly stageMs: StageMs;
  readonly readbacks: number;
  readonly peakHeapBytes: number | null;
  /** Decoded frames open at once, at most (media/frame.ts counter). */
  readonly peakOpenFrames: number;
}

export interface PipelineCaseResult {
  readonly runs: readonly RunFigures[];
  readonly inputWidth: number;
  readonly inputHeight: number;
  readonly outputWidth: number;
  readonly outputHeight: number;
  readonly enhancer: string | null;
  readonly backend: 'webgpu' | 'wasm' | null;
  /** Peak GPU bytes the enhancer reports (its pool plus its textures); 0 on wasm. */
  readonly gpuBytes: number;
  readonly allocationsAfterFirstFrame: number;
  readonly outputMode: string | null;
  readonly tileSize: number;
  readonly tiles: number;
  /** Pack load + session creation + one warm-up frame. */
  readonly setupSeconds: number;
}

export interface LongClipResult {
  /** Peak JS heap over the first `checkpoints[0]` frames, then over all frames. */
  readonly checkpoints: readonly {
    readonly frames: number;
    readonly peakHeapBytes: number | null;
    readonly heapAfterGcBytes: number | null;
    readonly openFrames: number;
    readonly peakOpenFrames: number;
  }[];
  readonly fps: number;
  /** The app's last step: the render's part joined into the output file. */
  readonly join: {
    readonly frames: number;
    readonly seconds: number;
    readonly partBytes: number;
    readonly peakHeapBytes: number | null;
    readonly heapAfterGcBytes: number | null;
  };
}

export interface CfrCaseResult {
  readonly width: number;
  readonly height: number;
  readonly topK: number;
  readonly runs: number;
  readonly msPerTile: number;
  readonly msPerTileRuns: readonly number[];
  /** The untimed first run (pipeline compilation), on a warmupTile x warmupTile tile. */
  readonly compileMs: number;
  readonly warmupTile: number;
  /** Attention dispatches per tile (one submit + onSubmittedWorkDone each) and their rows. */
  readonly bands: number;
  readonly bandRows: number;
  /** Estimated multiply-adds of the largest band (cfrAttentionWork). */
  readonly bandWork: number;
  /** The longest single band over the timed runs. */
  readonly maxBandMs: number;
  /** Memory plan of the prepared CFR (cfrMemoryPlan), per tile. */
  readonly gpuBytes: number;
  readonly denseSimilarityFp16Bytes: number;
}

export interface PeerCaseResult {
  readonly width: number;
  readonly height: number;
  readonly frames: number;
  readonly oursBackend: string;
  readonly peerBackend: string;
  readonly oursMsPerFrame: readonly number[];
  readonly peerMsPerFrame: readonly number[];
  readonly oursFps: number;
  readonly peerFps: number;
  /** Largest |ours - peer| over every RGB sample of every frame (0-255 levels). */
  readonly maxPixelDiff: number;
  /** Share of RGB samples that differ at all. */
  readonly differingFraction: number;
  readonly meanAbsDiff: number;
}

export interface DecodedClip {
  readonly width: number;
  readonly height: number;
  /** RGBA frames, base64. */
  readonly frames: readonly string[];
  readonly msPerFrame: number;
  readonly enhancer: string | null;
}

/**
 * The deinterlacers on synthetic frames whose fields differ: the CPU one on I420 (media/
 * deinterlace.ts, a plain transcode), the same rule on RGBA (the wasm pipelines' input) and the
 * WGSL pass in the GPU pipelines' frame input.
 */
export interface DeinterlaceCaseResult {
  readonly width: number;
  readonly height: number;
  /** Frames timed (after one untimed frame, which has no previous frame). */
  readonly frames: number;
  /** Median ms per frame: copy out of the VideoFrame, the three planes, the new VideoFrame. */
  readonly msPerFrame: number;
  readonly msPerFrameRuns: readonly number[];
  /** Median ms per frame of the rule on the three colour components of RGBA bytes. */
  readonly rgbaMsPerFrame: number;
  /**
   * Median ms per frame of the GPU frame input (the frame onto the GPU, waited for) without and
   * with the deinterlacing pass; null without a WebGPU adapter.
   */
  readonly gpu: {
    readonly adapter: string;
    readonly uploadMs: number;
    readonly deinterlacedUploadMs: number;
  } | null;
}
