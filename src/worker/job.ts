/**
 * A job in the worker: the person's clip through the chosen enhancer into the chosen target, with
 * progress, preview bitmaps, pause/resume and cancel. Also the single-frame preview that lets a
 * person judge the model before committing to the whole clip.
 */
import type { FrameEnhancer } from '../engine/enhancer.ts';
import {
  MemoryTarget,
  leaseInput,
  transcode,
  VideoFrameSink,
  type AssembleResult,
  type TranscodeResult,
} from '../media/index.ts';
import { toErrorInfo, UpframeError } from '../shared/errors.ts';
import { sharedGpu } from '../gpu/device.ts';
import { deviceLoss } from '../gpu/readback.ts';
import { assemble, targetFor } from './assemble.ts';
import { createEnhancer } from './enhancers.ts';
import {
  deinterlacerFor,
  deinterlaces,
  emitPreview,
  outputFrame,
  pictureFields,
} from './frame-steps.ts';
import {
  continuation,
  deleteRender,
  newRenderId,
  partTarget,
  readJournal,
  renderState,
  sameSource,
  withRenderLock,
  writeJournal,
  type RenderJournal,
} from './render-store.ts';
import { PartSize } from './part-size.ts';
import type { Backend, JobOutput, WorkerEvent } from './protocol.ts';
import type { JobSettings, ModelChoice } from './settings.ts';

declare const self: DedicatedWorkerGlobalScope;

type Emit = (event: WorkerEvent, transfer?: Transferable[]) => void;

/** One enhancer kept warm between the preview and the render of the same clip and settings. */
let warm: { key: string; enhancer: FrameEnhancer } | null = null;

function modelKey(model: ModelChoice): string {
  return model.type === 'files'
    ? `files:${model.files.map((f) => `${f.name}:${f.size}`).join(',')}`
    : JSON.stringify(model);
}

async function enhancerFor(
  model: ModelChoice,
  backend: Backend,
  size: { width: number; height: number },
  tileSize: number,
  temporal: boolean | null,
  emit: Emit,
): Promise<FrameEnhancer | null> {
  if (model.type === 'none') return null;
  const key = `${modelKey(model)}|${backend}|${size.width}x${size.height}|${tileSize}|${temporal}`;
  if (warm?.key === key) {
    warm.enhancer.reset();
    return warm.enhancer;
  }
  if (warm) {
    const old = warm.enhancer;
    warm = null;
    await old.close();
  }
  let lastEmit = 0;
  const enhancer = await createEnhancer(model, backend, size, tileSize, temporal, (p) => {
    const now = performance.now();
    if (now - lastEmit < 200 && p.loaded < p.total) return;
    lastEmit = now;
    emit({ kind: 'model-progress', file: p.file, loaded: p.loaded, total: p.total });
  });
  if (enhancer) warm = { key, enhancer };
  return enhancer;
}

class Gate {
  private paused: { promise: Promise<void>; release: () => void } | null = null;

  pause(): void {
    if (this.paused) return;
    let release = () => {};
    const promise = new Promise<void>((resolve) => (release = resolve));
    this.paused = { promise, release };
  }

  resume(): void {
    this.paused?.release();
    this.paused = null;
  }

  get isPaused(): boolean {
    return this.paused !== null;
  }

  async pass(signal: AbortSignal): Promise<void> {
    while (this.paused && !signal.aborted) {
      await Promise.race([
        this.paused.promise,
        new Promise<void>((resolve) =>
          signal.addEventListener('abort', () => resolve(), { once: true }),
        ),
      ]);
    }
  }
}

export interface RunningJob {
  readonly id: number;
  readonly gate: Gate;
  readonly abort: AbortController;
  deviceLost: string | null;
}

let running: RunningJob | null = null;

export function controlJob(id: number, action: 'pause' | 'resume' | 'cancel'): boolean {
  if (!running || running.id !== id) return false;
  if (action === 'pause') running.gate.pause();
  else if (action === 'resume') running.gate.resume();
  else {
    running.gate.resume();
    running.abort.abort();
  }
  return true;
}

export interface JobOutcome {
  readonly result: TranscodeResult;
  readonly bytes: Uint8Array<ArrayBuffer> | null;
  readonly readbacksPerFrame: number;
  readonly enhancer: string | null;
  readonly backend: Backend | null;
}

const PREVIEW_INTERVAL_MS = 800;
const PROGRESS_INTERVAL_MS = 250;

function outputLabel(output: JobOutput, file: File): string {
  if (output.type === 'handle') return output.handle.name;
  if (output.type === 'opfs') return output.name.replace(/^render-\d+-/, '');
  return file.name;
}

/** How a job writes: straight into the target (memory), or through parts of a journaled render. */
interface Journaled {
  readonly journal: RenderJournal;
  /** The part this job writes. */
  readonly part: string;
  readonly resumeAt?: number;
  readonly resumeAudioAtUs?: number;
}

/**
 * Starts a render. A render into a file (the person's, or OPFS for a download) goes through parts
 * of a journaled render (render-store.ts), so a closed tab or a lost GPU keeps its frames; a render
 * into memory (tests, the harness's small jobs) writes straight through.
 */
export async function runJob(
  id: number,
  file: File,
  settings: JobSettings,
  output: JobOutput,
  emit: Emit,
): Promise<JobOutcome> {
  if (output.type === 'memory') return render(id, file, settings, output, emit, null);
  const { total, subtitleTracks } = await clipFacts(file);
  const range = settings.frameRange
    ? { start: settings.frameRange.start, end: Math.min(settings.frameRange.end, total) }
    : { start: 0, end: total };
  const journal: RenderJournal = {
    version: 1,
    id: newRenderId(),
    createdAt: Date.now(),
    source: { name: file.name, size: file.size, lastModified: file.lastModified },
    settings: settings.model.type === 'files' ? null : settings,
    outputName: outputLabel(output, file),
    range,
    parts: [{ name: 'part-1.mp4', startFrame: range.start, frames: null, audioEndS: null }],
    subtitleTracks,
  };
  return withRenderLock(journal.id, async () => {
    await writeJournal(journal);
    return render(id, file, settings, output, emit, { journal, part: 'part-1.mp4' });
  });
}

/** Continues a stopped render of the same file, with the settings it started with. */
export async function resumeJob(
  id: number,
  renderId: string,
  file: File,
  output: JobOutput,
  emit: Emit,
): Promise<JobOutcome> {
  return withRenderLock(renderId, async () => {
    const before = await readJournal(renderId);
    if (!sameSource(before, file)) {
      throw new UpframeError(
        'INVALID_OPTION',
        `This render was of "${before.source.name}" (${before.source.size} bytes); ` +
          `"${file.name}" is a different file. Open the same file to continue it.`,
      );
    }
    if (!before.settings) {
      throw new UpframeError(
        'INVALID_OPTION',
        'This render used model files picked from disk, which the page cannot keep: ' +
          'save the frames it made, or start it again.',
      );
    }
    const { journal, next } = continuation(await renderState(before));
    await writeJournal(journal);
    if (!next) {
      // every frame was kept (the tab closed while the parts were being joined): join them
      return finishRender(journal, file, output, null, emit, id);
    }
    return render(id, file, before.settings, output, emit, {
      journal,
      part: next.part,
      resumeAt: next.resumeAt,
      ...(next.resumeAudioAtUs !== null ? { resumeAudioAtUs: next.resumeAudioAtUs } : {}),
    });
  });
}

/**
 * Saves what a stopped render kept into `output`; the render itself stays. `file`: its clip, when
 * the page has it, for the subtitles (the parts hold none).
 */
export async function saveRender(
  renderId: string,
  output: JobOutput,
  file: File | null = null,
): Promise<JobOutcome> {
  return withRenderLock(renderId, async () => {
    const state = await renderState(await readJournal(renderId));
    const clip = file && sameSource(state.journal, file) ? file : null;
    const result = await assemble(state, clip, output, false);
    return outcomeOf(
      result,
      null,
      state.framesDone < state.journal.range.end - state.journal.range.start,
    );
  });
}

/** The clip's frame count and text subtitle tracks. */
async function clipFacts(file: File): Promise<{ total: number; subtitleTracks: number }> {
  const lease = await leaseInput(file);
  const input = lease.input;
  try {
    if (!input.video)
      throw new UpframeError('NO_VIDEO_TRACK', `"${file.name}" has no video track.`);
    const total = new VideoFrameSink(input).timing.timestampsUs.length;
    return { total, subtitleTracks: input.subtitleTracks.length };
  } finally {
    lease.release();
  }
}

const NO_TIMINGS = { decodeMs: 0, processMs: 0, encodeMs: 0 };

/** `endedEarly`: the file holds fewer frames than the render's range (see TranscodeResult). */
function outcomeOf(
  result: AssembleResult,
  part: TranscodeResult | null,
  endedEarly = part?.endedEarly ?? false,
): JobOutcome {
  return {
    result: {
      ...result,
      endedEarly,
      ...(part
        ? { decodeMs: part.decodeMs, processMs: part.processMs, encodeMs: part.encodeMs }
        : NO_TIMINGS),
      warnings: [...(part?.warnings ?? []), ...result.warnings],
    },
    bytes: null,
    readbacksPerFrame: 0,
    enhancer: null,
    backend: null,
  };
}

/** Joins a render's parts into `output` and removes the render. */
async function finishRender(
  journal: RenderJournal,
  file: File,
  output: JobOutput,
  part: TranscodeResult | null,
  emit: Emit,
  jobId: number,
): Promise<JobOutcome> {
  const state = await renderState(journal);
  emit({
    kind: 'job-progress',
    jobId,
    framesDone: state.framesDone,
    framesTotal: journal.range.end - journal.range.start,
    fps: 0,
    paused: false,
    decodeMs: part?.decodeMs ?? 0,
    processMs: part?.processMs ?? 0,
    encodeMs: part?.encodeMs ?? 0,
  });
  let lastEmit = 0;
  // a render that broke off at a damaged frame: every track is cut where its last frame ends
  const complete = !(part?.endedEarly ?? false);
  const result = await assemble(state, file, output, complete, undefined, (done, total) => {
    const now = performance.now();
    if (now - lastEmit < PROGRESS_INTERVAL_MS && done < total) return;
    lastEmit = now;
    emit({
      kind: 'job-progress',
      jobId,
      framesDone: total,
      framesTotal: total,
      fps: 0,
      paused: false,
      decodeMs: part?.decodeMs ?? 0,
      processMs: part?.processMs ?? 0,
      encodeMs: part?.encodeMs ?? 0,
      writing: done / total,
    });
  });
  await deleteRender(journal.id);
  return outcomeOf(result, part);
}

async function render(
  id: number,
  file: File,
  settings: JobSettings,
  output: JobOutput,
  emit: Emit,
  journaled: Journaled | null,
): Promise<JobOutcome> {
  if (running) throw new UpframeError('BUSY', 'Another render is already running in this tab.');
  const job: RunningJob = { id, gate: new Gate(), abort: new AbortController(), deviceLost: null };
  running = job;
  let device: GPUDevice | null = null;
  try {
    const lease = await leaseInput(file);
    const input = lease.input;
    const video = input.video;
    const deinterlace = deinterlaces(settings, input);
    lease.release();
    if (!video) throw new UpframeError('NO_VIDEO_TRACK', `"${file.name}" has no video track.`);
    const size = { width: video.width, height: video.height };
    const enhancer = await enhancerFor(
      settings.model,
      settings.backend,
      size,
      settings.tileSize,
      settings.temporal,
      emit,
    );
    const deinterlacer = deinterlacerFor(deinterlace, enhancer);
    const scaleX = enhancer ? enhancer.outputWidth / size.width : 1;
    if (enhancer?.backend === 'webgpu') {
      // a lost GPU stops the job cleanly (the target is aborted, nothing half-written is kept)
      device = (await sharedGpu(self.navigator.gpu)).device;
      void device.lost.then((info) => {
        if (running !== job) return;
        job.deviceLost = info.message || info.reason;
        job.abort.abort();
      });
    }
    const target = journaled
      ? await partTarget(journaled.journal.id, journaled.part)
      : await targetFor(output);
    const started = performance.now();
    let lastPreview = -Infinity;
    let lastProgress = -Infinity;
    const readbacksBefore = enhancer?.stats().readbacks ?? 0;
    const partSize = journaled ? new PartSize() : null;
    const result = await transcode({
      input: file,
      target,
      codec: settings.codec,
      quality: settings.quality,
      ...(settings.frameRange ? { frameRange: settings.frameRange } : {}),
      ...(settings.container ? { container: settings.container } : {}),
      ...(journaled
        ? {
            part: true,
            ...(journaled.resumeAt !== undefined ? { resumeAt: journaled.resumeAt } : {}),
            ...(journaled.resumeAudioAtUs !== undefined
              ? { resumeAudioAtUs: journaled.resumeAudioAtUs }
              : {}),
          }
        : {}),
      outputSize: (w, h) => ({ width: Math.round(w * scaleX), height: Math.round(h * scaleX) }),
      signal: job.abort.signal,
      ...(enhancer || deinterlacer
        ? {
            process: async (frame: VideoFrame, index: number, picture) => {
              await job.gate.pass(job.abort.signal);
              const fields = pictureFields(settings, deinterlace, picture);
              const out = await outputFrame(frame, deinterlacer, enhancer, fields);
              const now = performance.now();
              if (now - lastPreview >= PREVIEW_INTERVAL_MS) {
                lastPreview = now;
                await emitPreview(emit, id, index, frame, out);
              }
              return out;
            },
          }
        : {}),
      onProgress: (p) => {
        // every frame, so the size is read as soon as a fragment lands
        const size = partSize?.observe(p, target.bytesWritten) ?? {};
        const now = performance.now();
        if (now - lastProgress < PROGRESS_INTERVAL_MS && p.framesDone < p.framesTotal) return;
        lastProgress = now;
        const seconds = (now - started) / 1000;
        emit({
          kind: 'job-progress',
          jobId: id,
          framesDone: p.framesDone,
          framesTotal: p.framesTotal,
          // this run's frames over this run's time (a continued render's kept frames were
          // made before it started: counting them said 64 frames/s and "0:09 left" for 92 s)
          fps: seconds > 0 ? p.framesThisRun / seconds : 0,
          paused: job.gate.isPaused,
          decodeMs: p.decodeMs,
          processMs: p.processMs,
          encodeMs: p.encodeMs,
          ...size,
        });
      },
    });
    const frames = Math.max(1, result.frames);
    const stats = {
      readbacksPerFrame: enhancer ? (enhancer.stats().readbacks - readbacksBefore) / frames : 0,
      enhancer: enhancer?.name ?? null,
      backend: enhancer?.backend ?? null,
    };
    if (journaled) {
      const finished = await finishRender(journaled.journal, file, output, result, emit, id);
      return { ...finished, ...stats };
    }
    return { result, bytes: target instanceof MemoryTarget ? target.bytes() : null, ...stats };
  } catch (err) {
    // A pending GPU call can fail ("Buffer was unmapped before mapping was resolved") before
    // device.lost resolves, and transcode() hands that on as an INTERNAL UpframeError: ask the
    // device before calling it internal. Our other errors (a cancel, a bad input) are never a
    // loss, so they are not held back.
    const ours = err instanceof UpframeError && err.code !== 'INTERNAL';
    if (job.deviceLost === null && device && !ours) {
      job.deviceLost = await deviceLoss(device);
    }
    const kept = journaled ? await keepOrDrop(journaled.journal, err) : 0;
    const keptNote =
      kept > 0
        ? ` The ${kept} frame${kept === 1 ? ' is' : 's'} done ${kept === 1 ? 'is' : 'are'} kept: ` +
          'save them or continue the render from the note at the top of the page.'
        : '';
    if (job.deviceLost !== null) {
      throw new UpframeError(
        'DEVICE_LOST',
        `The GPU stopped working during the render (${job.deviceLost}).` +
          (keptNote || ' Nothing was saved.'),
        { cause: err },
      );
    }
    if (keptNote) {
      const info = toErrorInfo(err);
      throw new UpframeError(info.code, info.message + keptNote, { cause: err });
    }
    throw err;
  } finally {
    running = null;
  }
}

/**
 * After a failed render: a cancel removes it (the person asked for nothing); any other failure
 * keeps it when it holds frames, and returns how many.
 */
async function keepOrDrop(journal: RenderJournal, err: unknown): Promise<number> {
  const canceled = err instanceof UpframeError && err.code === 'EXPORT_CANCELED';
  const frames = canceled
    ? 0
    : await renderState(journal).then(
        (s) => s.framesDone,
        () => 0,
      );
  if (frames === 0) await deleteRender(journal.id);
  return frames;
}

/** Enhances one frame of the clip so a person can judge the model before the full render. */
export async function previewFrame(
  file: File,
  frameIndex: number,
  settings: JobSettings,
  emit: Emit,
): Promise<{ frameIndex: number; ms: number; warm: boolean; width: number; height: number }> {
  const lease = await leaseInput(file);
  const input = lease.input;
  try {
    const sink = new VideoFrameSink(input);
    const total = sink.timing.timestampsUs.length;
    const index = Math.min(Math.max(0, Math.floor(frameIndex)), Math.max(0, total - 1));
    const size = { width: sink.track.width, height: sink.track.height };
    const before = warm?.enhancer ?? null;
    const enhancer = await enhancerFor(
      settings.model,
      settings.backend,
      size,
      settings.tileSize,
      settings.temporal,
      emit,
    );
    // deinterlacing looks at the frame before: that one is decoded too
    const deinterlace = deinterlaces(settings, input);
    const deinterlacer = deinterlacerFor(deinterlace, enhancer);
    const start = deinterlace && index > 0 ? index - 1 : index;
    for await (const decoded of sink.frames({ range: { start, end: index + 1 } })) {
      const frame = decoded.detach();
      const fields = pictureFields(settings, deinterlace, decoded.picture);
      if (decoded.index < index) {
        try {
          if (deinterlacer) (await deinterlacer.process(frame, fields)).close();
          else await enhancer?.rememberFrame(frame);
        } finally {
          frame.close();
        }
        continue;
      }
      try {
        const started = performance.now();
        const out = await outputFrame(frame, deinterlacer, enhancer, fields);
        const ms = performance.now() - started;
        try {
          await emitPreview(emit, 0, index, frame, out);
          return {
            frameIndex: index,
            ms,
            warm: enhancer !== null && enhancer === before,
            width: out.displayWidth,
            height: out.displayHeight,
          };
        } finally {
          out.close();
        }
      } finally {
        frame.close();
      }
    }
    throw new UpframeError(
      'CORRUPT_INPUT',
      `Frame ${index + 1} of "${file.name}" could not be decoded.`,
    );
  } finally {
    lease.release();
  }
}
