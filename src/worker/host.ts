/// <reference lib="webworker" />
/**
 * The job worker's entry: one dispatcher with one try/catch. Everything heavy (demux, decode,
 * enhance, encode, mux) runs here so the page only draws.
 */
import { loadBuiltinIndex } from '../engine/packs.ts';
import { peekSharedGpu, sharedGpu } from '../gpu/device.ts';
import { canEncode } from '../media/index.ts';
import { toErrorInfo } from '../shared/errors.ts';
import { controlJob, previewFrame, resumeJob, runJob, saveRender, type JobOutcome } from './job.ts';
import { deleteRender, listRenders } from './render-store.ts';
import type { RequestOutput, RequestType, WorkerEvent } from './protocol.ts';
import { post, serve, type Handlers } from './serve.ts';

declare const self: DedicatedWorkerGlobalScope;

type JobReply = { out: RequestOutput<'job.start'>; transfer: Transferable[] };

function emit(event: WorkerEvent, transfer: Transferable[] = []): void {
  post(event, transfer);
}

// (clips are read in the probe worker, probe-host.ts)
const handlers: Handlers<Exclude<RequestType, 'source.probe'>> = {
  async 'gpu.probe'() {
    try {
      const { info } = await sharedGpu(self.navigator.gpu);
      return { out: { available: true, info } };
    } catch (err) {
      return { out: { available: false, error: toErrorInfo(err) } };
    }
  },
  async 'gpu.lose'() {
    const gpu = await peekSharedGpu();
    gpu?.device.destroy();
    return { out: { lost: gpu !== null } };
  },
  ping(input) {
    return Promise.resolve({ out: { echo: input.echo, at: Date.now() } });
  },
  async 'packs.list'() {
    return { out: await loadBuiltinIndex() };
  },
  async 'encode.scale'({ codec, width, height, fps, scales }) {
    for (const scale of scales) {
      if (await canEncode(codec, width * scale, height * scale, fps)) return { out: { scale } };
    }
    return { out: { scale: null } };
  },
  async 'preview.frame'(input) {
    return { out: await previewFrame(input.file, input.frameIndex, input.settings, emit) };
  },
  async 'job.start'(input) {
    const started = performance.now();
    return reply(
      await runJob(input.jobId, input.file, input.settings, input.output, emit),
      started,
    );
  },
  async 'job.resume'(input) {
    const started = performance.now();
    return reply(
      await resumeJob(input.jobId, input.renderId, input.file, input.output, emit),
      started,
    );
  },
  async 'renders.list'() {
    return { out: await listRenders() };
  },
  async 'renders.save'(input) {
    const started = performance.now();
    return reply(await saveRender(input.renderId, input.output, input.file ?? null), started);
  },
  async 'renders.discard'(input) {
    await deleteRender(input.renderId);
    return { out: { removed: true } };
  },
  'job.control'(input) {
    return Promise.resolve({ out: { applied: controlJob(input.jobId, input.action) } });
  },
};

function reply(outcome: JobOutcome, started: number): JobReply {
  const out = {
    transcode: outcome.result,
    bytes: outcome.bytes,
    readbacksPerFrame: outcome.readbacksPerFrame,
    enhancer: outcome.enhancer,
    backend: outcome.backend,
    seconds: (performance.now() - started) / 1000,
  };
  return { out, transfer: outcome.bytes ? [outcome.bytes.buffer] : [] };
}

serve(handlers);
