import { useShallow } from 'zustand/react/shallow';
import { formatBytes, formatDuration } from '../shared/format.ts';
import {
  controlRender,
  frameRangeProblem,
  previewFrame,
  startRender,
} from '../state/job-actions.ts';
import { useStore } from '../state/store.ts';
import { ErrorMessage } from './error-message.tsx';

export function RenderPanel() {
  const { job, ready, rangeOk } = useStore(
    useShallow((s) => ({
      job: s.job,
      ready: s.source.summary !== null && s.source.summary.decodable,
      rangeOk: frameRangeProblem(s.settings, s.source.summary?.video.frameCount ?? 0) === null,
    })),
  );
  const busy = job.phase === 'running' || job.phase === 'paused' || job.phase === 'previewing';
  const pct = job.framesTotal > 0 ? Math.floor((100 * job.framesDone) / job.framesTotal) : 0;
  return (
    <section className="panel render" aria-label="Preview and render">
      <div className="actions">
        <button
          type="button"
          className="button secondary"
          data-testid="preview-button"
          disabled={!ready || busy}
          onClick={() => void previewFrame()}
        >
          {job.phase === 'previewing' ? 'Enhancing one frame…' : 'Preview frame'}
        </button>
        <button
          type="button"
          className="button"
          data-testid="render-button"
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
          One frame took {(job.previewMs / 1000).toFixed(1)} s.
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
          <p className="hint" data-testid="render-status">
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
        <div className="done" data-testid="render-done">
          <p>
            Done: {job.result.transcode.frames} frames at {job.result.transcode.width}×
            {job.result.transcode.height}, {formatBytes(job.result.transcode.bytes)}
            {job.result.transcode.audioPacketsCopied > 0 ? ', audio kept' : ''}.
          </p>
          {job.result.transcode.warnings.map((w) => (
            <p key={w} className="hint warning" data-testid="render-warning">
              {w}
            </p>
          ))}
          {job.saved.kind === 'download' ? (
            <a
              className="button"
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
    </section>
  );
}
