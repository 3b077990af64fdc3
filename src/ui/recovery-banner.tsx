import { useShallow } from 'zustand/react/shallow';
import { formatBytes } from '../shared/format.ts';
import {
  continueRecovered,
  discardRecovered,
  sameClip,
  saveRecovered,
} from '../state/job-actions.ts';
import {
  useStore,
  type JobSettings,
  type PackIndexEntry,
  type RecoverableRender,
} from '../state/store.ts';
import { ErrorMessage } from './error-message.tsx';

/**
 * Renders that stopped before they finished (the tab closed or crashed, the GPU was lost): their
 * frames are kept, and each can be saved as it is, continued from the first missing frame when
 * its clip is open again, or discarded.
 */
export function RecoveryBanner() {
  const { recovery, file, ready, probing, jobBusy, packs } = useStore(
    useShallow((s) => ({
      probing: s.source.probing,
      recovery: s.recovery,
      packs: s.settings.packs,
      file: s.source.file,
      // as for Render: the clip's summary is in and decodable
      ready: s.source.summary !== null && s.source.summary.decodable,
      jobBusy:
        s.job.phase === 'running' || s.job.phase === 'paused' || s.job.phase === 'previewing',
    })),
  );
  if (recovery.renders.length === 0 && !recovery.error) return null;
  const matches = (r: RecoverableRender) => sameClip(file, r);
  return (
    <section className="recovery" aria-label="Unfinished renders" data-testid="recovery">
      {recovery.renders.map((r) => {
        const saved = recovery.saved[r.id];
        const busy = recovery.busy === r.id;
        // the clip is open, or this browser can open it again from where it was dropped or picked
        const reopens = !matches(r) && recovery.handles[r.id] !== undefined;
        const canContinue = r.canContinue && !jobBusy && (matches(r) ? ready : reopens && !probing);
        // every frame is in; only joining the parts into the file is left
        const rendered = r.framesDone >= r.framesTotal;
        return (
          <div className="recovery-item" key={r.id} data-testid="recovery-item">
            <p>
              <strong>Unfinished render of {r.sourceName}.</strong>{' '}
              {rendered ? (
                <>
                  All <span data-testid="recovery-frames">{r.framesDone}</span> frames were rendered
                  ({formatBytes(r.bytes)} kept in this browser), but writing the file did not
                  finish.{' '}
                </>
              ) : (
                <>
                  <span data-testid="recovery-frames">{r.framesDone}</span> of {r.framesTotal}{' '}
                  frames are kept ({formatBytes(r.bytes)} in this browser): the file is kept in
                  whole pieces of about 2 seconds, so the frames after the last whole piece are made
                  again.{' '}
                </>
              )}
              {!r.canContinue
                ? 'Its model came from files picked from disk, so it can only be saved as it is.'
                : matches(r)
                  ? rendered
                    ? 'The clip is open: the file can be written now'
                    : 'The clip is open: the render can continue where it stopped'
                  : reopens
                    ? `${rendered ? 'Writing the file' : 'Continuing'} opens ${r.sourceName} again from where it was opened`
                    : `Open ${r.sourceName} again to ${rendered ? 'write the file' : 'continue it'}`}
              {r.settings ? ` (${describeSettings(r.settings, packs)}).` : ''}
            </p>
            <div className="actions">
              <button
                type="button"
                className="button"
                data-testid="recovery-continue"
                disabled={!canContinue || busy}
                onClick={() => void continueRecovered(r.id)}
              >
                {rendered ? 'Write the file' : 'Continue the render'}
              </button>
              <button
                type="button"
                className="button secondary"
                data-testid="recovery-save"
                disabled={busy || recovery.busy !== null || jobBusy}
                onClick={() => void saveRecovered(r.id)}
              >
                {busy ? 'Saving…' : `Save the ${r.framesDone} frames`}
              </button>
              <button
                type="button"
                className="button danger"
                data-testid="recovery-discard"
                disabled={busy || recovery.busy !== null || jobBusy}
                onClick={() => void discardRecovered(r.id)}
              >
                Discard
              </button>
              {saved?.kind === 'download' ? (
                <a
                  className="button secondary"
                  data-testid="recovery-download"
                  href={saved.url}
                  download={saved.name}
                >
                  Download {saved.name}
                </a>
              ) : saved ? (
                <span data-testid="recovery-saved" role="status">
                  Saved as {saved.name}.
                </span>
              ) : null}
            </div>
            {saved?.notes?.map((n) => (
              <p key={n} className="hint warning" data-testid="recovery-note">
                {n}
              </p>
            ))}
          </div>
        );
      })}
      {recovery.error ? <ErrorMessage error={recovery.error} testId="recovery-error" /> : null}
    </section>
  );
}

const CODECS = { avc: 'H.264', vp9: 'VP9', av1: 'AV1' } as const;

/** The settings a stopped render continues with, which may differ from the page's. */
export function describeSettings(settings: JobSettings, packs: readonly PackIndexEntry[]): string {
  const m = settings.model;
  const model =
    m.type === 'builtin'
      ? (packs.find((p) => p.name === m.name)?.title ?? m.name)
      : m.type === 'url'
        ? m.url
        : m.type === 'none'
          ? 'no model'
          : 'the default model';
  const where = settings.backend === 'webgpu' ? 'the GPU' : 'the CPU';
  return `with ${model}, ${CODECS[settings.codec]}, on ${where}`;
}
