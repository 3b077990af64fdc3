/**
 * The actions behind the page's flow: open a clip (probe it in the worker), preview one frame,
 * render the whole clip into a file, pause/resume/cancel. All heavy work happens in the worker;
 * these only post requests and fold replies and events into the store.
 */
import { toErrorInfo, type ErrorInfo } from '../shared/errors.ts';
import { jobWorker, probeSource, subscribeJobWorker } from '../worker/client.ts';
import type { RecoverableRender, SourceSummary, WorkerEvent } from '../worker/protocol.ts';
import { addComparedFrame, clearComparedFrames, dropRenderedFrames } from './actions.ts';
import { checkScaleFit } from './scale-fit.ts';
import { customPackSettled } from './custom-pack.ts';
import {
  jobSettings,
  outputContainerFor,
  outputKey,
  previewsByItself,
  frameRangeProblem,
  firstLookFrame,
  speedKey,
} from './job-settings.ts';
import { keepSettings, readKeptSettings } from './saved-settings.ts';
import {
  chooseOutput,
  dropEmptyPick,
  dropStaleDownloads,
  keepEarlierDownload,
  needsClick,
  outputName,
  partialName,
  savedOutput,
} from './save-output.ts';
import { readHandle, readHandleIfAllowed, rememberSource, sourceHandle } from './source-handles.ts';
import {
  initialState,
  updateSlice,
  useStore,
  type SavedOutput,
  type SettingsSlice,
} from './store.ts';

let subscribed = false;

/**
 * One preview at a time in the worker, and only the current clip's: a clip opened while another
 * clip's preview runs (its own preview starts by itself) waits for that one to end, and frames
 * the old preview sends after the switch are dropped.
 */
let previewInFlight: Promise<unknown> = Promise.resolve();
/** outputKey of the settings the preview in flight and the render running use. */
let previewMadeWith: string | null = null;
let renderMadeWith: string | null = null;
let previewFramesWanted = true;

function onWorkerEvent(event: WorkerEvent): void {
  if (event.kind === 'preview') {
    const { jobId } = useStore.getState().job;
    // previews of a job that is no longer the current one, or of a clip no longer open, are
    // dropped (and their bitmaps freed)
    if (
      (event.jobId !== 0 && event.jobId !== jobId) ||
      (event.jobId === 0 && !previewFramesWanted)
    ) {
      event.before.close();
      event.after.close();
      return;
    }
    addComparedFrame(
      {
        frameIndex: event.frameIndex,
        timestampUs: event.timestampUs,
        beforeScaled: event.before,
        after: event.after,
        madeWith: event.jobId === 0 ? previewMadeWith : renderMadeWith,
        fromRender: event.jobId !== 0,
      },
      // a preview is shown at once; a render's frames while the viewer is on the newest
      event.jobId === 0,
    );
    return;
  }
  if (event.kind === 'model-progress') {
    const done = event.loaded >= event.total;
    updateSlice('job', {
      modelLoad: done ? null : { file: event.file, loaded: event.loaded, total: event.total },
    });
    return;
  }
  const job = useStore.getState().job;
  if (event.jobId !== job.jobId || (job.phase !== 'running' && job.phase !== 'paused')) return;
  const left = event.framesTotal - event.framesDone;
  updateSlice('job', {
    framesDone: event.framesDone,
    framesTotal: event.framesTotal,
    fps: event.fps,
    etaSeconds: event.fps > 0 ? left / event.fps : null,
    writing: event.writing ?? null,
    ...(event.size ? { size: event.size } : {}),
  });
}

export function listenToWorker(): void {
  if (subscribed) return;
  subscribed = true;
  subscribeJobWorker(onWorkerEvent);
}

/**
 * Destroys the job worker's GPU device, as a driver reset does: how the tests (and anyone
 * checking a recovery by hand, from the console) make a GPU loss happen.
 */
export async function loseGpu(): Promise<boolean> {
  return (await jobWorker().call('gpu.lose', {})).lost;
}

export async function loadPacks(): Promise<void> {
  try {
    const index = await jobWorker().call('packs.list', {});
    // the person's own settings from their last visit, where they still make sense
    const kept = readKeptSettings(index.packs.map((p) => p.name));
    const scale = kept.scale ?? useStore.getState().settings.scale;
    const model = kept.model;
    const modelFits =
      model?.type !== 'builtin' || index.packs.find((p) => p.name === model.name)?.scale === scale;
    const { model: _model, ...rest } = kept;
    updateSlice('settings', { ...(modelFits ? kept : rest), packs: index.packs });
  } catch (err) {
    updateSlice('settings', { packs: [] });
    updateSlice('job', { error: toErrorInfo(err) });
  }
}

/** A person's own change of settings (kept for their next visit where it is one of those). */
export function setSettings(patch: Partial<SettingsSlice>): void {
  updateSlice('settings', patch);
  keepSettings(patch);
}

/** A clip that could not even be read: the source panel says so. */
export function sourceError(error: ErrorInfo): void {
  updateSlice('source', { error, probing: false });
}

/**
 * While a render runs (or is paused) the clip stays: opening another would hide the render and
 * its controls while it went on unseen. Says so (`source.refused`) and returns true then.
 */
export function refusedWhileRendering(name: string | null): boolean {
  const { job, source } = useStore.getState();
  if (!renderUnderWay && job.phase !== 'running' && job.phase !== 'paused') return false;
  const which = name ? `"${name}" was not opened` : 'Another clip cannot be opened now';
  updateSlice('source', {
    refused: {
      code: 'BUSY',
      message: `${which}: the render of "${source.file?.name ?? 'this clip'}" is in progress.`,
    },
  });
  return true;
}

/**
 * Opens a clip: its summary from the worker, then (where that is quick) its first before/after.
 * `handle` is where it came from when the browser says (a drop, the open picker): a render of it
 * remembers that, so it can continue after the tab closed without the file being picked again.
 */
export async function openSource(
  file: File,
  handle: FileSystemFileHandle | null = null,
  opts: { preview?: boolean } = {},
): Promise<void> {
  if (refusedWhileRendering(file.name)) return;
  keepEarlierDownload();
  previewFramesWanted = false;
  clearComparedFrames();
  updateSlice('job', { ...initialState.job });
  // the previous clip's frame numbers and notes go, also when this one cannot be opened; each
  // clip is deinterlaced or not by what it is, and keeps its subtitles, until the person says
  // otherwise
  updateSlice('settings', {
    frameFrom: null,
    frameTo: null,
    previewFrame: 1,
    scaleNote: null,
    deinterlace: null,
    keepSubtitles: true,
  });
  if (file.size === 0) {
    updateSlice('source', {
      file,
      handle,
      summary: null,
      probing: false,
      error: { code: 'EMPTY_FILE', message: `"${file.name}" is empty (0 bytes).` },
      undecodableFrom: null,
      refused: null,
    });
    return;
  }
  updateSlice('source', {
    file,
    handle,
    summary: null,
    probing: true,
    error: null,
    undecodableFrom: null,
    refused: null,
  });
  try {
    const summary = await probeSource(file);
    if (useStore.getState().source.file !== file) return;
    updateSlice('source', { summary, probing: false });
    if (!summary.decodable) {
      updateSlice('source', {
        error: {
          code: 'UNSUPPORTED_CODEC',
          message: `This browser cannot decode ${summary.video.codecName} video (${summary.video.codec}).`,
        },
      });
    }
    updateSlice('settings', {
      previewFrame: firstLookFrame(summary.video.frameCount, summary.video.averageFps),
    });
    await checkScaleFit({ mayLower: true });
    if (useStore.getState().source.file !== file) return;
    if (opts.preview !== false && previewsByItself(summary, useStore.getState().settings)) {
      void previewFrame({ firstLook: true });
    }
  } catch (err) {
    if (useStore.getState().source.file !== file) return;
    updateSlice('source', { probing: false, error: toErrorInfo(err) });
  }
}

function fail(error: ErrorInfo): void {
  updateSlice('job', {
    canceling: false,
    phase: error.code === 'EXPORT_CANCELED' ? 'canceled' : 'failed',
    error: error.code === 'EXPORT_CANCELED' ? null : error,
  });
}

/**
 * Previews the frame the settings name. `firstLook`: the one a clip gets when opened; where the
 * clip cannot be decoded that far, it moves to a frame before the damage and tries again.
 */
export async function previewFrame(opts: { firstLook?: boolean } = {}): Promise<void> {
  if (renderUnderWay) return; // (its end would set the phase over the render's)
  const { source, job } = useStore.getState();
  const file = source.file;
  if (!file || !source.summary || job.phase === 'running' || job.phase === 'paused') return;
  keepEarlierDownload(); // a finished render's link is shown only while its phase lasts
  updateSlice('job', { phase: 'previewing', error: null, previewMs: null, previewKey: null });
  await previewInFlight;
  const { source: now, settings } = useStore.getState();
  if (now.file !== file || !now.summary) return;
  previewFramesWanted = true;
  const js = jobSettings(settings, now.summary.video.frameCount);
  previewMadeWith = outputKey(js);
  const call = jobWorker().call('preview.frame', {
    file,
    frameIndex: settings.previewFrame - 1,
    settings: js,
  });
  previewInFlight = call.catch(() => undefined);
  try {
    const out = await call;
    if (useStore.getState().source.file !== file) return;
    updateSlice('job', {
      phase: 'idle',
      previewMs: out.ms,
      // a first run also set the model up: no render's speed to go by
      previewKey: out.warm ? speedKey(js) : null,
    });
  } catch (err) {
    if (useStore.getState().source.file !== file) return;
    const info = toErrorInfo(err);
    if (noteDamage(info, now.summary) && opts.firstLook) {
      updateSlice('job', { phase: 'idle' });
      updateSlice('settings', {
        previewFrame: firstLookFrame(info.frame!, now.summary.video.averageFps),
      });
      return previewFrame();
    }
    fail(info);
  }
}

/**
 * A preview found the clip cannot be decoded from a frame on (and can before it): the range
 * ends before it, where a render would stop anyway, and the settings say why. False otherwise.
 */
function noteDamage(info: ErrorInfo, summary: SourceSummary): boolean {
  const at = info.frame;
  if (info.code !== 'CORRUPT_INPUT' || at === undefined || at < 1) return false;
  const { source, settings } = useStore.getState();
  if (source.undecodableFrom !== null && source.undecodableFrom <= at) return true;
  updateSlice('source', { undecodableFrom: at });
  // not kept for the next visit: this clip's own frame numbers
  updateSlice('settings', {
    frameTo: Math.min(settings.frameTo ?? summary.video.frameCount, at),
    ...((settings.frameFrom ?? 1) > at ? { frameFrom: null } : {}),
  });
  return true;
}

export { dropStaleDownloads, outputName, partialName };
export {
  firstLookFrame,
  frameRangeProblem,
  jobSettings,
  outputContainerFor,
  outputKey,
  previewsByItself,
  renderEstimate,
  resolveModel,
} from './job-settings.ts';

let nextJobId = 1;

export function startRender(): Promise<void> {
  return runRender(null);
}

/**
 * A render is on its way, from the press of Render (which may wait for a pack's manifest and the
 * save dialog) to its end: another clip is not opened meanwhile, and a second press does nothing.
 * (Kept here, not only in the store: the store's `job.starting` is reset when the phase becomes
 * running, and this is set before the first await.) Before, a clip opened while the save dialog was open replaced the
 * page's clip while the render went on with the earlier one.
 */
let renderUnderWay = false;

async function runRender(resumeId: string | null): Promise<void> {
  if (renderUnderWay) return;
  renderUnderWay = true;
  // an earlier refusal is old news; one made from now on is said while this render goes on
  updateSlice('source', { refused: null });
  updateSlice('job', { starting: true });
  let ran = false;
  try {
    ran = await renderOnce(resumeId);
  } finally {
    renderUnderWay = false;
    updateSlice('job', { starting: false });
  }
  // a finished continuation is gone from the list; a failed render may have joined it
  if (ran) await loadRecovery();
}

/**
 * Renders the open clip into a file the person picks (or a download). With `resumeId`, continues
 * that stopped render of the same clip instead, with the settings it started with. False when
 * no render was started.
 */
async function renderOnce(resumeId: string | null): Promise<boolean> {
  await customPackSettled();
  const { source, settings, job, recovery } = useStore.getState();
  if (!source.file || !source.summary || job.phase === 'running' || job.phase === 'paused')
    return false;
  if (resumeId && job.phase === 'previewing') return false;
  const rangeProblem = resumeId
    ? null
    : frameRangeProblem(settings, source.summary.video.frameCount);
  if (rangeProblem) {
    fail({ code: 'INVALID_OPTION', message: rangeProblem });
    return false;
  }
  const stopped = resumeId ? recovery.renders.find((r) => r.id === resumeId) : null;
  if (resumeId && !stopped) return false;
  const container = outputContainerFor(source.summary, settings);
  const name = stopped ? stopped.outputName : outputName(source.file, settings, container);
  let chosen: Awaited<ReturnType<typeof chooseOutput>>;
  try {
    chosen = await chooseOutput(name);
  } catch (err) {
    fail(toErrorInfo(err));
    return false;
  }
  if (!chosen) return false;
  keepEarlierDownload();
  const jobId = nextJobId++;
  const js = jobSettings(settings, source.summary.video.frameCount, container);
  // a continued render uses the settings it started with, which the page does not hold
  renderMadeWith = stopped ? null : outputKey(js);
  // the last render's frames give way to this one's (a preview's stay until they come)
  dropRenderedFrames();
  if (!stopped && source.handle) {
    // a render that stops can then continue without the clip being picked again (not awaited:
    // a browser storage that never answers must not hold the render, nor the page's guard)
    void rememberSource(source.file, source.handle).catch(() => undefined);
  }
  const total = stopped
    ? stopped.framesTotal
    : js.frameRange
      ? js.frameRange.end - js.frameRange.start
      : source.summary.video.frameCount;
  updateSlice('job', {
    ...initialState.job,
    phase: 'running',
    jobId,
    framesDone: stopped?.framesDone ?? 0,
    framesTotal: total,
  });
  try {
    const result = stopped
      ? await jobWorker().call('job.resume', {
          jobId,
          renderId: stopped.id,
          file: source.file,
          output: chosen.output,
        })
      : await jobWorker().call('job.start', {
          jobId,
          file: source.file,
          settings: js,
          output: chosen.output,
        });
    const { bytes: _bytes, ...rest } = result;
    const saved = await savedOutput(chosen, name);
    updateSlice('job', {
      phase: 'done',
      result: rest,
      saved,
      framesDone: result.transcode.frames,
      framesTotal: result.transcode.frames,
      etaSeconds: 0,
      canceling: false,
    });
  } catch (err) {
    await dropEmptyPick(chosen.output);
    fail(toErrorInfo(err));
  }
  return true;
}

export async function loadRecovery(startup = false): Promise<void> {
  try {
    if (startup) await dropStaleDownloads();
    const renders = await jobWorker().call('renders.list', {});
    const handles: Record<string, FileSystemFileHandle> = {};
    for (const r of renders) {
      const handle = r.canContinue
        ? await sourceHandle({
            name: r.sourceName,
            size: r.sourceSize,
            lastModified: r.sourceLastModified,
          }).catch(() => null)
        : null;
      if (handle) handles[r.id] = handle;
    }
    updateSlice('recovery', { renders, handles });
  } catch (err) {
    updateSlice('recovery', { error: toErrorInfo(err) });
  }
  updateSlice('recovery', { checked: true });
}

/**
 * Continues a stopped render. Its clip must be the one open, or one this browser can open again
 * from where it was dropped or picked (asking the person's leave to read it: call from a click).
 */
export async function continueRecovered(id: string): Promise<void> {
  const { recovery, source } = useStore.getState();
  const render = recovery.renders.find((r) => r.id === id);
  const handle = recovery.handles[id];
  if (!render) return;
  if (!sameClip(source.file, render) && handle) {
    updateSlice('recovery', { error: null });
    let file: File | null;
    try {
      file = await readHandle(handle);
    } catch (err) {
      file = null;
      if (needsClick(err)) {
        updateSlice('recovery', {
          error: {
            code: 'SOURCE_UNAVAILABLE',
            message: `The browser wants one more click before Upframe may read ${render.sourceName}: press Continue again.`,
          },
        });
        return;
      }
    }
    if (!file || !sameClip(file, render)) {
      updateSlice('recovery', {
        error: {
          code: 'SOURCE_UNAVAILABLE',
          message: file
            ? `${render.sourceName} has changed since the render started, so it cannot continue.`
            : `${render.sourceName} cannot be read from where it was opened (moved, deleted, or ` +
              'reading it was not allowed).',
        },
      });
      return;
    }
    await openSource(file, handle, { preview: false });
    if (!useStore.getState().source.summary?.decodable) return;
  }
  await runRender(id);
}

/** True when `file` is the clip `render` was made from (name, size and date, as its journal has them). */
export function sameClip(file: File | null, render: RecoverableRender): boolean {
  return (
    file !== null &&
    file.name === render.sourceName &&
    file.size === render.sourceSize &&
    file.lastModified === render.sourceLastModified
  );
}

/** Saves the frames a stopped render made as a file of their own; the render stays. */
export async function saveRecovered(id: string): Promise<void> {
  const render = useStore.getState().recovery.renders.find((r) => r.id === id);
  if (!render || useStore.getState().recovery.busy) return;
  const name = partialName(render.outputName);
  updateSlice('recovery', { error: null });
  let chosen: Awaited<ReturnType<typeof chooseOutput>> = null;
  let hidden: SavedOutput | null = null;
  try {
    chosen = await chooseOutput(name);
    if (!chosen) return;
    // an earlier save's link and notes are hidden while this one is made (they are not this
    // file's), and come back if it fails
    const { [id]: earlier, ...others } = useStore.getState().recovery.saved;
    hidden = earlier ?? null;
    updateSlice('recovery', { busy: id, saved: others });
    // the render's clip, for the join to read its subtitles: the page's, or where it was opened
    // from when the browser still lets the page read it (no prompt for this)
    const open = useStore.getState().source.file;
    const handle = useStore.getState().recovery.handles[id];
    const file = sameClip(open, render) ? open : handle ? await readHandleIfAllowed(handle) : null;
    const result = await jobWorker().call('renders.save', {
      renderId: id,
      output: chosen.output,
      ...(file && sameClip(file, render) ? { file } : {}),
    });
    const output = { ...(await savedOutput(chosen, name)), notes: result.transcode.warnings };
    if (hidden?.kind === 'download') URL.revokeObjectURL(hidden.url);
    hidden = null;
    updateSlice('recovery', { saved: { ...useStore.getState().recovery.saved, [id]: output } });
  } catch (err) {
    if (chosen) await dropEmptyPick(chosen.output);
    const back = hidden ? { saved: { ...useStore.getState().recovery.saved, [id]: hidden } } : {};
    updateSlice('recovery', { error: toErrorInfo(err), ...back });
  } finally {
    updateSlice('recovery', { busy: null });
  }
}

export async function discardRecovered(id: string): Promise<void> {
  if (useStore.getState().recovery.busy) return;
  updateSlice('recovery', { busy: id, error: null });
  try {
    await jobWorker().call('renders.discard', { renderId: id });
  } catch (err) {
    updateSlice('recovery', { error: toErrorInfo(err) });
  } finally {
    updateSlice('recovery', { busy: null });
  }
  await loadRecovery();
}

export async function controlRender(action: 'pause' | 'resume' | 'cancel'): Promise<void> {
  const { jobId, phase } = useStore.getState().job;
  if (phase !== 'running' && phase !== 'paused') return;
  if (action === 'pause') updateSlice('job', { phase: 'paused' });
  if (action === 'resume') updateSlice('job', { phase: 'running' });
  // said at once: the worker stops after the frame in progress, which on a CPU takes seconds
  if (action === 'cancel') updateSlice('job', { canceling: true });
  await jobWorker().call('job.control', { jobId, action });
}
