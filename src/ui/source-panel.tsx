import { useId } from 'react';
import { useShallow } from 'zustand/react/shallow';
import { formatBytes } from '../shared/format.ts';
import { openSource } from '../state/actions.ts';
import { useStore } from '../state/store.ts';

export function SourcePanel() {
  const inputId = useId();
  const { file, error } = useStore(
    useShallow((s) => ({ file: s.source.file, error: s.source.error })),
  );
  return (
    <section className="panel source-panel" aria-labelledby={`${inputId}-title`}>
      <h2 id={`${inputId}-title`}>Your clip</h2>
      {file ? (
        <dl className="facts" data-testid="source-facts">
          <dt>File</dt>
          <dd data-testid="source-name">{file.name}</dd>
          <dt>Size</dt>
          <dd data-testid="source-size">{formatBytes(file.size)}</dd>
        </dl>
      ) : (
        <p className="hint">
          Drop a video anywhere on this page, or pick one. It stays on this computer: nothing is
          uploaded.
        </p>
      )}
      {error ? (
        <p className="error" role="alert" data-testid="source-error">
          {error.message}
        </p>
      ) : null}
      <label className="button" htmlFor={inputId}>
        {file ? 'Pick another clip…' : 'Pick a clip…'}
      </label>
      <input
        id={inputId}
        data-testid="file-input"
        className="visually-hidden"
        type="file"
        accept="video/*,.mp4,.mov,.m4v,.webm,.mkv"
        onChange={(event) => {
          const picked = event.currentTarget.files?.[0];
          if (picked) openSource(picked);
          event.currentTarget.value = '';
        }}
      />
    </section>
  );
}
