/**
 * What the bench page offers `npm run bench` and `npm run eval`: the app's own media and engine
 * code run on the page's main thread (where performance.memory exists), returning plain figures;
 * the scripts print tables and write JSON.
 */
import type { FrameEnhancer } from '../engine/enhancer.ts';
import { loadPack, type PackSource } from '../engine/packs.ts';
import { planTiles } from '../engine/tiling.ts';
import { sharedGpu } from '../gpu/device.ts';
import { openFrameCount, peakOpenFrameCount, resetPeakOpenFrameCount } from '../media/frame.ts';
import { assembleParts, openInput } from '../media/index.ts';
import { toErrorInfo, type ErrorInfo } from '../shared/errors.ts';
import { createEnhancer } from '../worker/enhancers.ts';
import { cfrCase, cfrPlanBytes } from './cfr.ts';
import { deinterlaceCase } from './deinterlace.ts';
import { decodeClip } from './frames.ts';
import { heapAfterGc, HeapPeak, memorySource } from './memory.ts';
import { NaiveGpuSrEnhancer } from './naive-sr.ts';
import { peerCase, type PeerBackend } from './peer.ts';
import { BlobTarget, buildSrEnhancer, DiscardTarget, fetchClip, timedRun } from './pipeline.ts';
import type {
  CfrCaseResult,
  DecodedClip,
  DeinterlaceCaseResult,
  EnvInfo,
  LongClipResult,
  PeerCaseResult,
  PipelineCaseResult,
  RunFigures,
} from './types.ts';

export type Outcome<T> = { ok: true; value: T } | { ok: false; error: ErrorInfo };

export type Pipeline =
  /** The zero-copy (or wasm) `sr` engine, built as the worker builds it. */
  | 'sr'
  /** The naive WebGPU `sr` pipeline with CPU round trips (naive-sr.ts). */
  | 'naive'
  /** Whatever the worker's createEnhancer makes of the pack (any kind it supports). */
  | 'app';

export interface PipelineRequest {
  readonly clipUrl: string;
  readonly pack: PackSource | null;
  readonly pipeline: Pipeline;
  readonly backend: 'webgpu' | 'wasm';
  readonly tileSize: number;
  readonly runs: number;
  /** Frames per timed run (from the start of the clip); 0 = the whole clip. */
  readonly frames: number;
}

export interface BenchApi {
  env(): Promise<EnvInfo>;
  pipeline(request: PipelineRequest): Promise<Outcome<PipelineCaseResult>>;
  longClip(clipUrl: string, checkpoints: readonly number[]): Promise<Outcome<LongClipResult>>;
  /** `banded`: the attention pass in cfrBandRows bands, a submit and a wait between bands. */
  cfr(
    size: number,
    topK: number | 'all',
    runs: number,
    banded: boolean,
  ): Promise<Outcome<CfrCaseResult>>;
  cfrPlan(size: number, topK: number | 'all'): Promise<ReturnType<typeof cfrPlanBytes>>;
  deinterlace(
    width: number,
    height: number,
    frames: number,
  ): Promise<Outcome<DeinterlaceCaseResult>>;
  peer(request: {
    clipUrl: string;
    frames: number;
    backend: 'webgpu' | 'wasm';
    peerBackend: PeerBackend;
    modelUrl: string;
    wasmBase: string;
  }): Promise<Outcome<PeerCaseResult>>;
  decode(request: {
    clipUrl: string;
    pack: PackSource | null;
    /** 'sr' builds the sr engine directly; 'app' asks the worker's factory (any pack kind). */
    pipeline: 'sr' | 'app';
    backend: 'webgpu' | 'wasm';
    tileSize: number;
    /** 'app' only: temporal fusion on/off; null or absent = the pack's default. */
    temporal?: boolean | null;
  }): Promise<Outcome<DecodedClip>>;
}

async function attempt<T>(work: () => Promise<T>): Promise<Outcome<T>> {
  try {
    return { ok: true, value: await work() };
  } catch (err) {
    return { ok: false, error: toErrorInfo(err) };
  }
}

async function clipSize(clip: Blob): Promise<{ width: number; height: number }> {
  const input = await openInput(clip);
  try {
    if (!input.video) throw new Error('The bench clip has no video track.');
    return { width: input.video.width, height: input.video.height };
  } finally {
    input.close();
  }
}

interface Built {
  enhancer: FrameEnhancer | null;
  tileSize: number;
  tiles: number;
}

async function build(request: PipelineRequest, width: number, height: number): Promise<Built> {
  const { pack, backend, tileSize } = request;
  if (!pack) return { enhancer: null, tileSize: 0, tiles: 0 };
  switch (request.pipeline) {
    case 'sr':
      return buildSrEnhancer(pack, backend, width, height, tileSize);
    case 'naive': {
      const loaded = await loadPack(pack);
      const { device } = await sharedGpu(navigator.gpu);
      const size = tileSize > 0 ? tileSize : Math.max(width, height);
      const overlap = Math.min(loaded.manifest.tile?.overlap ?? 8, Math.floor(size / 4));
      const plan = planTiles(width, height, size, overlap);
      const enhancer = await NaiveGpuSrEnhancer.create(loaded, device, plan);
      return { enhancer, tileSize: size, tiles: plan.tiles.length };
    }
    case 'app': {
      const model =
        pack.type === 'builtin'
          ? pack
          : pack.type === 'url'
            ? pack
            : { type: 'files' as const, files: pack.files };
      const enhancer = await createEnhancer(model, backend, { width, height }, tileSize, null);
      return { enhancer, tileSize, tiles: 0 };
    }
  }
}

async function pipelineCase(request: PipelineRequest): Promise<PipelineCaseResult> {
  const clip = await fetchClip(request.clipUrl);
  const { width, height } = await clipSize(clip);
  const setupStart = performance.now();
  const built = await build(request, width, height);
  const { enhancer } = built;
  try {
    const range = request.frames > 0 ? { start: 0, end: request.frames } : undefined;
    // a warm-up frame: ORT's first run (and WebGPU's shader compilation) is not a per-frame cost
    if (enhancer) await timedRun(clip, enhancer, { frameRange: { start: 0, end: 1 } });
    const setupSeconds = (performance.now() - setupStart) / 1000;
    const runs: RunFigures[] = [];
    for (let i = 0; i < request.runs; i++) {
      runs.push(await timedRun(clip, enhancer, range ? { frameRange: range } : {}));
    }
    const stats = enhancer?.stats();
    return {
      runs,
      inputWidth: width,
      inputHeight: height,
      outputWidth: enhancer?.outputWidth ?? width,
      outputHeight: enhancer?.outputHeight ?? height,
      enhancer: enhancer?.name ?? null,
      backend: enhancer?.backend ?? null,
      gpuBytes: stats?.gpuBytes ?? 0,
      allocationsAfterFirstFrame: stats?.allocationsAfterFirstFrame ?? 0,
      outputMode:
        enhancer && 'outputMode' in enhancer
          ? String(enhancer.outputMode)
          : enhancer
            ? 'cpu'
            : null,
      tileSize: built.tileSize,
      tiles: built.tiles,
      setupSeconds,
    };
  } finally {
    await enhancer?.close();
  }
}

async function longClip(clipUrl: string, checkpoints: readonly number[]): Promise<LongClipResult> {
  const clip = await fetchClip(clipUrl);
  const heap = new HeapPeak();
  const points: LongClipResult['checkpoints'][number][] = [];
  const wanted = new Set(checkpoints);
  heapAfterGc();
  resetPeakOpenFrameCount();
  const started = performance.now();
  // as the app renders: into a fragmented MP4 part (a Blob here, outside the JS heap, as the
  // app's part is a file), then joined into the output file
  const part = new BlobTarget();
  const run = await timedRun(clip, null, {
    part,
    frameRange: { start: 0, end: Math.max(...checkpoints) },
    onFrame: (done) => {
      heap.sample();
      if (wanted.has(done)) {
        points.push({
          frames: done,
          peakHeapBytes: heap.value,
          heapAfterGcBytes: heapAfterGc(),
          openFrames: openFrameCount(),
          peakOpenFrames: peakOpenFrameCount(),
        });
      }
    },
  });
  const fps = run.frames / ((performance.now() - started) / 1000);
  const blob = part.blob();
  heapAfterGc();
  const joinHeap = new HeapPeak();
  const joinStarted = performance.now();
  const joined = await assembleParts([{ blob }], new DiscardTarget(), {
    container: null,
    complete: true,
    onProgress: () => joinHeap.sample(),
  });
  const join = {
    frames: joined.frames,
    seconds: (performance.now() - joinStarted) / 1000,
    partBytes: blob.size,
    peakHeapBytes: joinHeap.value,
    heapAfterGcBytes: heapAfterGc(),
  };
  return { checkpoints: points, fps, join };
}

async function peer(request: Parameters<BenchApi['peer']>[0]): Promise<PeerCaseResult> {
  const clip = await fetchClip(request.clipUrl);
  const { width, height } = await clipSize(clip);
  // one tile for the whole frame: UpscalerJS runs the frame in one piece, so tiles would differ
  // at their seams for reasons that have nothing to do with the weights
  const built = await buildSrEnhancer(
    { type: 'builtin', name: 'esrgan-medium-x4' },
    request.backend,
    width,
    height,
    Math.max(width, height),
  );
  try {
    return await peerCase({
      clip,
      frames: request.frames,
      ours: built.enhancer,
      peerBackend: request.peerBackend,
      modelUrl: request.modelUrl,
      wasmBase: request.wasmBase,
    });
  } finally {
    await built.enhancer.close();
  }
}

async function decode(request: Parameters<BenchApi['decode']>[0]): Promise<DecodedClip> {
  const clip = await fetchClip(request.clipUrl);
  const { pack } = request;
  if (!pack) return decodeClip(clip, null);
  const { width, height } = await clipSize(clip);
  const enhancer =
    request.pipeline === 'app' && pack.type !== 'files'
      ? await createEnhancer(
          pack,
          request.backend,
          { width, height },
          request.tileSize,
          request.temporal ?? null,
        )
      : (await buildSrEnhancer(pack, request.backend, width, height, request.tileSize)).enhancer;
  if (!enhancer) throw new Error('The pack gave no enhancer.');
  try {
    return await decodeClip(clip, enhancer);
  } finally {
    await enhancer.close();
  }
}

async function env(): Promise<EnvInfo> {
  let gpu: EnvInfo['gpu'] = null;
  let gpuError: string | null = null;
  try {
    gpu = (await sharedGpu(navigator.gpu)).info;
  } catch (err) {
    gpuError = toErrorInfo(err).message;
  }
  return {
    userAgent: navigator.userAgent,
    hardwareConcurrency: navigator.hardwareConcurrency,
    crossOriginIsolated: self.crossOriginIsolated,
    gpu,
    gpuError,
    memorySource: memorySource(),
  };
}

export const benchApi: BenchApi = {
  env,
  pipeline: (r) => attempt(() => pipelineCase(r)),
  longClip: (url, points) => attempt(() => longClip(url, points)),
  cfr: (size, k, runs, banded) => attempt(() => cfrCase(size, k, runs, banded)),
  cfrPlan: (size, k) => Promise.resolve(cfrPlanBytes(size, k)),
  deinterlace: (w, h, frames) => attempt(() => deinterlaceCase(w, h, frames)),
  peer: (r) => attempt(() => peer(r)),
  decode: (r) => attempt(() => decode(r)),
};
