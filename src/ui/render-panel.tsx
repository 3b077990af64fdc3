import { useEffect, useRef, type RefObject } from 'react';
import { useShallow } from 'zustand/react/shallow';
import { formatBytes, formatDuration, formatRoughly } from '../shared/format.ts';
import {
  controlRender,
  frameRangeProblem,
  previewFrame,
  renderEstimate,
  startRender,
} from '../state/job-actions.ts';
import { useStore, type JobSlice } from '../state/store.ts';
import { ErrorMessage } from './error-message.tsx';

export function RenderPanel() {
  const { job, ready, rangeOk, earlier, rotation, aspect, settings, frameCount } = useStore(
    useShallow((s) => ({
      job: s.job,
      settings: s.settings,
      frameCount: s.source.summary?.video.frameCount ?? 0,
      rotation: s.source.summary?.video.rotation ?? 0,
      aspect: s.source.summary?.video.pixelAspect ?? null,
      earlier: s.downloads.earlier,
      ready: s.source.summary !== null && s.source.summary.decodable,
      rangeOk: frameRangeProblem(s.settings, s.source.summary?.video.frameCount ?? 0) === null,
    })),
  );
  const estimate = renderEstimate(
    job.previewMs !== null && job.previewKey !== null
      ? { ms: job.previewMs, key: job.previewKey }
      : null,
    settings,
    frameCount,
  );
  const busy =
    job.starting || job.phase === 'running' || job.phase === 'paused' || job.phase === 'previewing';
  const pct = job.framesTotal > 0 ? Math.floor((100 * job.framesDone) / job.framesTotal) : 0;
  const refs = {
    panel: useRef<HTMLElement>(null),
    preview: useRef<HTMLButtonElement>(null),
    render: useRef<HTMLButtonElement>(null),
    pause: useRef<HTMLButtonElement>(null),
    resume: useRef<HTMLButtonElement>(null),
    status: useRef<HTMLParagraphElement>(null),
    done: useRef<HTMLDivElement>(null),
    download: useRef<HTMLAnchorElement>(null),
  };
  const { panel, preview, render, pause, resume, status, done, download } = refs;
  useFocusAfter(job, refs);
  return (
    <section className="panel render" aria-labelledby="render-title" ref={panel}>
      <h2 id="render-title" className="visually-hidden">
        Preview and render
      </h2>
      {/* what a screen reader hears: each change of phase and every quarter, not every frame */}
      <p className="visually-hidden" role="status" data-testid="render-announce">
        {announcement(job, pct)}
      </p>
      <div className="actions">
        <button
          type="button"
          className="button secondary"
          data-testid="preview-button"
          ref={preview}
          disabled={!ready || busy}
          onClick={() => void previewFrame()}
        >
          {job.phase === 'previewing' ? 'Enhancing one frame…' : 'Preview frame'}
        </button>
        <button
          type="button"
          className="button"
          data-testid="render-button"
          ref={render}
          disabled={!ready || busy || !rangeOk}
          onClick={() => void startRender()}
        >
          Render and save
        </button>
        {job.phase === 'running' && !job.canceling ? (
          <button
            type="button"
            className="button secondary"
            data-testid="pause-button"
            ref={pause}
            onClick={() => void controlRender('pause')}
          >
            Pause
          </button>
        ) : null}
        {job.phase === 'paused' && !job.canceling ? (
          <button
            type="button"
            className="button secondary"
            data-testid="resume-button"
            ref={resume}
            onClick={() => void controlRender('resume')}
          >
            Resume
          </button>
        ) : null}
        {(job.phase === 'running' || job.phase === 'paused') && !job.canceling ? (
          <button
            type="button"
            className="button danger"
            data-testid="cancel-button"
            onClick={() => void controlRender('cancel')}
          >
            Cancel
          </button>
        ) : null}
      </div>
      {job.modelLoad ? (
        <div className="progress-block" data-testid="model-load">
          <progress
            max={job.modelLoad.total}
            value={job.modelLoad.loaded}
            aria-label="Model download"
          />
          <p className="hint">
            Loading the model ({job.modelLoad.file}): {formatBytes(job.modelLoad.loaded)} of{' '}
            {formatBytes(job.modelLoad.total)}. It is kept for next time.
          </p>
        </div>
      ) : null}
      {job.previewMs !== null ? (
        <p className="hint" data-testid="preview-time">
          One frame took {(job.previewMs / 1000).toFixed(1)} s
          {estimate
            ? `, so rendering ${estimate.frames === 1 ? 'the frame' : `the ${estimate.frames} frames`} ` +
              `would take at least ${formatRoughly(estimate.seconds)} at this speed.`
            : job.previewKey === null
              ? ', setting the model up included: preview again to see what the render would take.'
              : '.'}
        </p>
      ) : null}
      {job.phase === 'running' || job.phase === 'paused' || job.phase === 'done' ? (
        <div className="progress-block">
          <progress
            data-testid="render-progress"
            max={job.framesTotal || 1}
            value={job.framesDone}
            aria-label="Render progress"
          />
          <p className="hint" data-testid="render-status" tabIndex={-1} ref={status}>
            {job.framesDone} / {job.framesTotal} frames ({pct}%)
            {job.fps > 0 ? ` · ${job.fps.toFixed(job.fps < 1 ? 2 : 1)} frames/s` : ''}
            {job.phase === 'running' && job.etaSeconds !== null
              ? ` · ${formatDuration(job.etaSeconds)} left`
              : ''}
            {job.size !== null && job.framesDone < job.framesTotal
              ? ` · file about ${formatBytes(job.size.outputBytes)} ` +
                `(needs ${formatBytes(job.size.bytesNeeded)} more disk space)`
              : ''}
            {job.phase === 'paused' && !job.canceling ? ' · paused' : ''}
            {job.canceling ? ' · canceling after the frame in progress…' : ''}
            {job.phase === 'running' && job.framesTotal > 0 && job.framesDone >= job.framesTotal
              ? ` · writing the file${job.writing !== null ? ` (${Math.floor(job.writing * 100)} %)` : ''}`
              : ''}
          </p>
        </div>
      ) : null}
      {job.phase === 'canceled' ? (
        <p className="hint" data-testid="render-canceled">
          Canceled: nothing was saved.
        </p>
      ) : null}
      {job.phase === 'done' && job.saved && job.result ? (
        <div className="done" data-testid="render-done" tabIndex={-1} ref={done}>
          <p>
            Done: {job.result.transcode.frames}{' '}
            {job.result.transcode.frames === 1 ? 'frame' : 'frames'} at{' '}
            {shownSize(job, rotation, aspect)}, {formatBytes(job.result.transcode.bytes)}
            {tracksKept(job.result.transcode)}.
          </p>
          {job.result.transcode.warnings.map((w) => (
            <p key={w} className="hint warning" data-testid="render-warning">
              {w}
            </p>
          ))}
          {job.saved.kind === 'download' ? (
            <a
              className="button"
              ref={download}
              data-testid="download-link"
              href={job.saved.url}
              download={job.saved.name}
            >
              Download {job.saved.name}
            </a>
          ) : (
            <p data-testid="saved-name">Saved as {job.saved.name}.</p>
          )}
        </div>
      ) : null}
      {job.error ? <ErrorMessage error={job.error} testId="job-error" /> : null}
      {earlier.length > 0 ? (
        <div className="earlier" data-testid="earlier-downloads">
          <p className="hint">Earlier renders in this tab, kept until it closes:</p>
          <ul>
            {earlier.map((d) => (
              <li key={d.url}>
                <a className="button secondary" href={d.url} download={d.name}>
                  Download {d.name}
                </a>
              </li>
            ))}
          </ul>
        </div>
      ) : null}
    </section>
  );
}

/**
 * Where keyboard focus goes when the control it was on goes away or is disabled (Render while a
 * render runs, Pause when it pauses, Cancel when it is canceling): to the control that takes its
 * place, the finished file, or back to Render. Only focus that was in this panel (or nowhere) is
 * moved.
 */
function useFocusAfter(
  job: JobSlice,
  refs: {
    readonly panel: RefObject<HTMLElement | null>;
    readonly preview: RefObject<HTMLButtonElement | null>;
    readonly render: RefObject<HTMLButtonElement | null>;
    readonly pause: RefObject<HTMLButtonElement | null>;
    readonly resume: RefObject<HTMLButtonElement | null>;
    readonly status: RefObject<HTMLParagraphElement | null>;
    readonly done: RefObject<HTMLDivElement | null>;
    readonly download: RefObject<HTMLAnchorElement | null>;
  },
): void {
  const state = `${job.phase}${job.canceling ? ':canceling' : ''}`;
  const before = useRef(state);
  // whether focus was last in this panel (a control that goes away takes focus to the body
  // without any event; a page that opened a clip with nothing focused keeps it so)
  const hadFocus = useRef(false);
  useEffect(() => {
    const onFocusIn = (event: FocusEvent): void => {
      hadFocus.current = refs.panel.current?.contains(event.target as Node) ?? false;
    };
    document.addEventListener('focusin', onFocusIn);
    return () => document.removeEventListener('focusin', onFocusIn);
  }, [refs.panel]);
  useEffect(() => {
    const was = before.current;
    before.current = state;
    if (was === state) return;
    const active = document.activeElement;
    const lost =
      refs.panel.current?.contains(active) ||
      ((active === null || active === document.body) && hadFocus.current);
    if (!lost) return;
    const target = job.canceling
      ? refs.status.current
      : {
          running: refs.pause.current,
          paused: refs.resume.current,
          done: refs.download.current ?? refs.done.current,
          previewing: null,
          idle: was.startsWith('previewing') ? refs.preview.current : refs.render.current,
          canceled: refs.render.current,
          failed: refs.render.current,
        }[job.phase];
    if (target && !(target instanceof HTMLButtonElement && target.disabled)) target.focus();
    // (refs are stable; the phase is what moves focus)
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [state]);
}

/** The sentence a screen reader is given for the job's state (role=status, polite). */
export function announcement(job: JobSlice, pct: number): string {
  switch (job.phase) {
    case 'previewing':
      return 'Enhancing one frame…';
    case 'running':
      if (job.canceling) return 'Canceling after the frame in progress…';
      if (job.framesTotal > 0 && job.framesDone >= job.framesTotal) return 'Writing the file…';
      return job.framesDone === 0
        ? `Rendering ${job.framesTotal > 0 ? `${job.framesTotal} frames` : ''}…`
        : `Rendering: ${Math.floor(pct / 25) * 25}% done.`;
    case 'paused':
      return job.canceling ? 'Canceling…' : `Paused at ${pct}%.`;
    case 'done':
      return job.result && job.saved
        ? `Done: ${job.result.transcode.frames} frames. ` +
            (job.saved.kind === 'download'
              ? `${job.saved.name} is ready to download.`
              : `Saved as ${job.saved.name}.`)
        : '';
    case 'canceled':
      return 'Canceled: nothing was saved.';
    case 'idle':
      return job.previewMs !== null
        ? `Preview ready: one frame took ${(job.previewMs / 1000).toFixed(1)} s.`
        : '';
    default:
      return ''; // (an error is announced by its own alert)
  }
}

/**
 * The finished file's frame size as players show it: non-square pixels (kept from the source)
 * widen or narrow the picture, and a quarter turn swaps the sides.
 */
function shownSize(
  job: JobSlice,
  rotation: number,
  aspect: readonly [number, number] | null,
): string {
  const t = job.result!.transcode;
  const width = aspect ? Math.round((t.width * aspect[0]) / aspect[1]) : t.width;
  return rotation === 90 || rotation === 270 ? `${t.height}×${width}` : `${width}×${t.height}`;
}

/** What the finished file kept of the clip's sound and subtitles. */
export function tracksKept(t: {
  readonly audioPacketsCopied: number;
  readonly audioTracks: number;
  readonly subtitleTracks: number;
}): string {
  const audio =
    t.audioPacketsCopied === 0
      ? null
      : t.audioTracks > 1
        ? `its ${t.audioTracks} audio tracks`
        : 'audio';
  const subtitles =
    t.subtitleTracks === 0
      ? null
      : t.subtitleTracks === 1
        ? 'subtitles'
        : `${t.subtitleTracks} subtitle tracks`;
  const kept = [audio, subtitles].filter((k) => k !== null);
  return kept.length > 0 ? `, ${kept.join(' and ')} kept` : '';
}
