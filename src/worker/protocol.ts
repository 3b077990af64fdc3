/**
 * The typed contract between the page and the job worker. Types only: one table maps each request
 * type to its input and output; replies are `{ id, ok: true, out }` or `{ id, ok: false, error }`.
 * Progress and preview are their own message kinds, not replies.
 */
import type { GpuInfo } from '../gpu/device.ts';
import type { PackIndex, PackIndexEntry } from '../engine/manifest.ts';
import type { SourceSummary, TranscodeResult, VideoCodecChoice } from '../media/index.ts';

export type { PackIndex, PackIndexEntry, SourceSummary };
import type { ErrorInfo } from '../shared/errors.ts';
import type { JobSettings } from './settings.ts';

export type Backend = 'webgpu' | 'wasm';

export interface GpuStatus {
  readonly available: boolean;
  readonly info?: GpuInfo;
  readonly error?: ErrorInfo;
}

/**
 * The backend to start on: WebGPU on a real GPU; wasm without WebGPU or when the only adapter is
 * a software one (a CPU rasteriser such as SwiftShader, where ORT's WebGPU backend runs some 100x
 * slower than its wasm backend). The app's default and `npm run enhance --backend auto` use it.
 */
export function preferredBackend(gpu: GpuStatus): 'webgpu' | 'wasm' {
  return gpu.available && gpu.info?.isFallbackAdapter !== true ? 'webgpu' : 'wasm';
}

/** Where the finished file goes. */
export type JobOutput =
  | { readonly type: 'handle'; readonly handle: FileSystemFileHandle }
  | { readonly type: 'opfs'; readonly name: string }
  | { readonly type: 'memory' };

export interface JobResult {
  readonly transcode: TranscodeResult;
  /** The file itself for 'memory' outputs (transferred). */
  readonly bytes: Uint8Array<ArrayBuffer> | null;
  readonly readbacksPerFrame: number;
  readonly enhancer: string | null;
  readonly backend: Backend | null;
  readonly seconds: number;
}

/** A render that stopped before it finished (tab closed or crashed, GPU lost), kept in OPFS. */
export interface RecoverableRender {
  readonly id: string;
  readonly createdAt: number;
  readonly sourceName: string;
  readonly sourceSize: number;
  readonly sourceLastModified: number;
  /** Suggested name for the saved file. */
  readonly outputName: string;
  readonly framesDone: number;
  readonly framesTotal: number;
  readonly bytes: number;
  /** False when its model came from picked files, which cannot be stored: it can only be saved. */
  readonly canContinue: boolean;
  /** The settings a continuation uses (its own, not the page's); null when it cannot continue. */
  readonly settings: JobSettings | null;
}

export interface RequestTable {
  'gpu.probe': { input: Record<string, never>; output: GpuStatus };
  /** Destroys the worker's GPU device as a driver reset would (tests; manual checks). */
  'gpu.lose': { input: Record<string, never>; output: { lost: boolean } };
  ping: { input: { echo: string }; output: { echo: string; at: number } };
  'source.probe': { input: { file: File }; output: SourceSummary };
  'packs.list': { input: Record<string, never>; output: PackIndex };
  /**
   * The largest of `scales` at which the browser can encode `codec` for a `width` x `height`
   * source at `fps` (encoder-config.ts canEncode); null when none can.
   */
  'encode.scale': {
    input: {
      codec: VideoCodecChoice;
      width: number;
      height: number;
      fps: number;
      scales: readonly number[];
    };
    output: { scale: number | null };
  };
  'preview.frame': {
    input: { file: File; frameIndex: number; settings: JobSettings };
    /**
     * `warm`: the model was set up before (an earlier preview's), so `ms` is one frame's work
     * as a render does it; a first run also sets the model up (shaders, buffers) and is slower.
     */
    output: { frameIndex: number; ms: number; warm: boolean; width: number; height: number };
  };
  'job.start': {
    input: { jobId: number; file: File; settings: JobSettings; output: JobOutput };
    output: JobResult;
  };
  /** Continues a stopped render of the same file, with its own settings, into `output`. */
  'job.resume': {
    input: { jobId: number; renderId: string; file: File; output: JobOutput };
    output: JobResult;
  };
  'renders.list': { input: Record<string, never>; output: RecoverableRender[] };
  /** Saves the frames a stopped render kept into `output`; the render stays. */
  'renders.save': {
    /** `file`: the render's clip, when the page has it open (for its subtitles). */
    input: { renderId: string; output: JobOutput; file?: File };
    output: JobResult;
  };
  'renders.discard': { input: { renderId: string }; output: { removed: boolean } };
  'job.control': {
    input: { jobId: number; action: 'pause' | 'resume' | 'cancel' };
    output: { applied: boolean };
  };
}

export type RequestType = keyof RequestTable;
export type RequestInput<T extends RequestType> = RequestTable[T]['input'];
export type RequestOutput<T extends RequestType> = RequestTable[T]['output'];

export type WorkerRequest = {
  [T in RequestType]: {
    readonly kind: 'request';
    readonly id: number;
    readonly type: T;
    readonly input: RequestInput<T>;
  };
}[RequestType];

export type WorkerReply =
  | { readonly kind: 'reply'; readonly id: number; readonly ok: true; readonly out: unknown }
  | { readonly kind: 'reply'; readonly id: number; readonly ok: false; readonly error: ErrorInfo };

export interface JobProgressEvent {
  readonly kind: 'job-progress';
  readonly jobId: number;
  readonly framesDone: number;
  readonly framesTotal: number;
  readonly fps: number;
  readonly paused: boolean;
  readonly decodeMs: number;
  readonly processMs: number;
  readonly encodeMs: number;
  /** After the last frame: how much of the file is written (0..1) while the parts are joined. */
  readonly writing?: number;
  /**
   * A render kept in private storage, once its part holds whole fragments: the finished file's
   * size at the rate so far, and the bytes it still needs on disk (the rest of the part, then
   * the finished file, which the join writes next to the parts).
   */
  readonly size?: { readonly outputBytes: number; readonly bytesNeeded: number };
}

/** A processed frame for the scrubber: both bitmaps at the enhanced size (jobId 0 = preview). */
export interface PreviewEvent {
  readonly kind: 'preview';
  readonly jobId: number;
  readonly frameIndex: number;
  readonly timestampUs: number;
  readonly before: ImageBitmap;
  readonly after: ImageBitmap;
}

/** Download progress of a model pack file (first use; later loads come from the cache). */
export interface ModelProgressEvent {
  readonly kind: 'model-progress';
  readonly file: string;
  readonly loaded: number;
  readonly total: number;
}

export type WorkerEvent = JobProgressEvent | PreviewEvent | ModelProgressEvent;

export type FromWorker = WorkerReply | WorkerEvent;
export type ToWorker = WorkerRequest;
