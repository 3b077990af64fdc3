import { useId } from 'react';
import { useShallow } from 'zustand/react/shallow';
import { formatBytes, formatDuration } from '../shared/format.ts';
import { openSource, refusedWhileRendering, sourceError } from '../state/job-actions.ts';
import { useStore } from '../state/store.ts';
import { ErrorMessage } from './error-message.tsx';
import { audioLine, subtitleLine } from './source-lines.ts';

interface OpenFilePicker {
  showOpenFilePicker?(options: {
    types: { description: string; accept: Record<string, string[]> }[];
    excludeAcceptAllOption?: boolean;
  }): Promise<FileSystemFileHandle[]>;
}

function canPickWithHandle(): boolean {
  return typeof (window as OpenFilePicker).showOpenFilePicker === 'function';
}

/**
 * The browser's open dialog where it has one (Chromium): it gives a handle to the file, so a
 * render of it that stops can continue later without the person finding the file again.
 */
async function pickWithHandle(): Promise<void> {
  let handle: FileSystemFileHandle | undefined;
  try {
    [handle] = await (window as OpenFilePicker).showOpenFilePicker!({
      types: [
        {
          description: 'Video',
          accept: {
            'video/*': [
              '.mp4',
              '.mov',
              '.m4v',
              '.webm',
              '.mkv',
              '.ts',
              '.mts',
              '.m2ts',
              '.avi',
              '.mpg',
              '.mpeg',
              '.vob',
              '.mod',
              '.tod',
              '.dat',
            ],
          },
        },
      ],
    });
  } catch {
    return; // the dialog was closed
  }
  if (!handle) return;
  const file = await handle.getFile().catch(() => null);
  if (file) await openSource(file, handle);
  else sourceError({ code: 'EMPTY_FILE', message: `"${handle.name}" cannot be read.` });
}

/**
 * How a player turns the stored frames (rotation is clockwise, in degrees): said in words, since
 * tools disagree on the sign (ffprobe calls a 270° clockwise turn "rotation 90").
 */
const TURNS: Record<number, string> = {
  90: 'turned 90° clockwise',
  180: 'upside down',
  270: 'turned 90° counter-clockwise',
};

export function SourcePanel() {
  const inputId = useId();
  const { file, summary, probing, error, refused, keepSubtitles } = useStore(
    useShallow((s) => ({
      keepSubtitles: s.settings.keepSubtitles,
      file: s.source.file,
      summary: s.source.summary,
      probing: s.source.probing,
      error: s.source.error,
      // said only while the render that caused it starts or goes on
      refused:
        s.job.starting || s.job.phase === 'running' || s.job.phase === 'paused'
          ? s.source.refused
          : null,
    })),
  );
  const v = summary?.video;
  return (
    <section className="panel source-panel" aria-labelledby={`${inputId}-title`}>
      <h2 id={`${inputId}-title`}>Your clip</h2>
      {file ? (
        <dl className="facts" data-testid="source-facts">
          <dt>File</dt>
          <dd data-testid="source-name">{file.name}</dd>
          <dt>Size</dt>
          <dd data-testid="source-size">{formatBytes(file.size)}</dd>
          {v && summary ? (
            <>
              <dt>Video</dt>
              <dd data-testid="source-video">
                {v.codecName} {v.displayWidth}×{v.displayHeight}
                {v.rotation ? ` (${TURNS[v.rotation] ?? `turned ${v.rotation}°`})` : ''}
                {!v.interlaced || (v.fieldPictures?.scanned && !v.fieldPictures.fields)
                  ? '' // (a stream that could hold fields, whose pictures are frames)
                  : v.fieldOrder === 'bottom-first'
                    ? ', interlaced, bottom field first'
                    : ', interlaced'}
              </dd>
              <dt>Frames</dt>
              <dd data-testid="source-frames">
                {v.frameCount} at {v.averageFps.toFixed(v.averageFps % 1 ? 2 : 0)} fps
                {v.variableFrameRate ? ' (variable)' : ''}
              </dd>
              <dt>Length</dt>
              <dd>{formatDuration(v.durationSeconds)}</dd>
              <dt>Audio</dt>
              <dd data-testid="source-audio">
                {summary.audio ? audioLine(summary.audio) : 'none'}
              </dd>
              {summary.subtitles.length > 0 ? (
                <>
                  <dt>Subtitles</dt>
                  <dd data-testid="source-subtitles">
                    {subtitleLine(summary.subtitles, summary.video.rotation === 0, keepSubtitles)}
                  </dd>
                </>
              ) : null}
              <dt>Container</dt>
              <dd>
                {summary.container === 'mpegts'
                  ? 'MPEG-TS'
                  : summary.container === 'mpegps'
                    ? 'MPEG-PS'
                    : summary.container.toUpperCase()}
              </dd>
            </>
          ) : null}
        </dl>
      ) : (
        <p className="hint">
          Drop a video anywhere on this page, or pick one. It stays on this computer: nothing is
          uploaded.
        </p>
      )}
      {probing ? <p className="hint">Reading the file…</p> : null}
      {summary?.warnings.map((w) => (
        <p key={w} className="hint warning">
          {w}
        </p>
      ))}
      {error ? <ErrorMessage error={error} testId="source-error" /> : null}
      {refused ? <ErrorMessage error={refused} testId="source-refused" /> : null}
      {canPickWithHandle() ? (
        <button
          type="button"
          className="button secondary"
          data-testid="pick-button"
          onClick={() => {
            if (!refusedWhileRendering(null)) void pickWithHandle();
          }}
        >
          {file ? 'Pick another clip…' : 'Pick a clip…'}
        </button>
      ) : (
        // the input (next) is the tab stop and carries the name; this is its face
        <label className="button secondary" htmlFor={inputId} aria-hidden="true">
          {file ? 'Pick another clip…' : 'Pick a clip…'}
        </label>
      )}
      <input
        id={inputId}
        data-testid="file-input"
        className="visually-hidden"
        // with the open dialog's button, this input is only for drops of old browsers and tests:
        // no tab stop of its own, so keyboard focus never disappears into it
        {...(canPickWithHandle()
          ? { tabIndex: -1, 'aria-hidden': true }
          : { 'aria-label': file ? 'Pick another clip…' : 'Pick a clip…' })}
        // Space opens a file input; Enter, as on the page's other buttons, too
        // no open dialog while a render is in progress: it says why instead
        onClick={(event) => {
          if (refusedWhileRendering(null)) event.preventDefault();
        }}
        onKeyDown={(event) => {
          if (event.key === 'Enter') {
            event.preventDefault();
            event.currentTarget.click();
          }
        }}
        type="file"
        accept="video/*,.mp4,.mov,.m4v,.webm,.mkv,.ts,.mts,.m2ts,.avi,.mpg,.mpeg,.vob,.mod,.tod,.dat"
        onChange={(event) => {
          const picked = event.currentTarget.files?.[0];
          if (picked) void openSource(picked);
          event.currentTarget.value = '';
        }}
      />
    </section>
  );
}
