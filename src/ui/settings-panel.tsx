import { useEffect, useId, useState } from 'react';
import { useShallow } from 'zustand/react/shallow';
import { frameRangeProblem, resolveModel, setSettings } from '../state/job-actions.ts';
import { chooseCustomPack } from '../state/custom-pack.ts';
import { chooseCodec, chooseScale } from '../state/scale-fit.ts';
import { useStore, type SettingsSlice } from '../state/store.ts';
import type { FieldOrder } from '../shared/deinterlace-rows.ts';

function modelValue(model: ReturnType<typeof useStore.getState>['settings']['model']): string {
  switch (model.type) {
    case 'builtin':
      return `builtin:${model.name}`;
    case 'url':
      return 'url';
    case 'files':
      return 'files';
    default:
      return model.type;
  }
}

const FILE_TYPES = { mp4: 'MP4', webm: 'WebM', mkv: 'MKV' } as const;

export function SettingsPanel() {
  const id = useId();
  const s = useStore(useShallow((state) => state.settings));
  const frames = useStore((state) => state.source.summary?.video.frameCount ?? 0);
  const interlaced = useStore((state) => state.source.summary?.video.interlaced ?? false);
  const streamOrder = useStore((state) => state.source.summary?.video.fieldOrder ?? 'top-first');
  const rendering = useStore((state) => ['running', 'paused'].includes(state.job.phase));
  const summary = useStore((state) => state.source.summary);
  const undecodableFrom = useStore((state) => state.source.undecodableFrom);
  // the file type each codec is written as for this clip (WebM for VP9 and AV1 where it can)
  const containers =
    (s.keepSubtitles ? summary?.outputContainers : summary?.plainContainers) ??
    ({ avc: 'mp4', vp9: 'webm', av1: 'webm' } as const);
  const fileType = (codec: 'avc' | 'vp9' | 'av1'): string => FILE_TYPES[containers[codec]];
  const subtitles = summary?.subtitles.length ?? 0;
  // a choice only where keeping them changes the file type (a rotated clip stays MP4)
  const subtitleChoice =
    summary !== null &&
    subtitles > 0 &&
    summary.outputContainers.avc !== summary.plainContainers.avc;
  const theSubtitles = subtitles === 1 ? 'subtitles' : `${subtitles} subtitle tracks`;
  const codecNote =
    summary && subtitles > 0 && s.keepSubtitles && containers[s.codec] === 'mkv'
      ? `Saved as MKV, which keeps this clip's ${theSubtitles}.`
      : summary && subtitles > 0 && summary.video.rotation !== 0
        ? `Saved as ${fileType(s.codec)} to keep this clip's rotation, which MKV cannot store: ` +
          `its ${theSubtitles} are left out.`
        : summary && subtitles > 0 && !s.keepSubtitles
          ? `Saved as ${fileType(s.codec)}: this clip's ${theSubtitles} are left out.`
          : summary && s.codec !== 'avc' && containers[s.codec] !== 'webm'
            ? `Saved as ${fileType(s.codec)}: WebM cannot ` +
              (summary.video.rotation !== 0
                ? `store this clip's rotation.`
                : `hold this clip's ${summary.audio?.codecName ?? ''} audio.`)
            : null;
  // the address last typed (kept across visits with the settings), offered again when the
  // person comes back to "From a web address…"
  const [url, setUrl] = useState('');
  // (also the one kept from the last visit, which the settings take after the panel is drawn)
  const shownUrl = s.model.type === 'url' ? s.model.url : null;
  if (shownUrl !== null && shownUrl !== url) setUrl(shownUrl);
  const gpuOk = s.gpu?.available === true;
  const adapter = s.gpu?.info
    ? [s.gpu.info.vendor, s.gpu.info.architecture].filter(Boolean).join(' ')
    : '';
  const packsAtScale = s.packs.filter((p) => p.scale === s.scale);
  const rangeProblem = frameRangeProblem(s, frames);
  // said once typing settles: "1" on the way to "12" is no mistake to announce
  const shownProblem = useSettled(rangeProblem, 700);
  return (
    <section className="panel settings" aria-labelledby={`${id}-title`}>
      <h2 id={`${id}-title`}>Settings</h2>
      {rendering ? (
        <p className="hint" data-testid="settings-locked">
          Settings are locked while the render runs.
        </p>
      ) : null}
      {/* a render keeps the settings it started with: they are not changed under it */}
      <fieldset
        className="plain"
        disabled={rendering}
        data-testid="settings-fields"
        aria-labelledby={`${id}-title`}
      >
        <div className="field">
          <label htmlFor={`${id}-model`}>Model</label>
          <select
            id={`${id}-model`}
            data-testid="model-select"
            value={modelValue(s.model)}
            onChange={(event) => {
              const v = event.currentTarget.value;
              if (v === 'default') setSettings({ model: { type: 'default' } });
              else if (v.startsWith('builtin:'))
                setSettings({ model: { type: 'builtin', name: v.slice(8) } });
              else if (v === 'url') void chooseCustomPack({ type: 'url', url });
            }}
          >
            <option value="default">Recommended: {recommendedTitle(s)}</option>
            {packsAtScale.map((p) => (
              <option key={p.name} value={`builtin:${p.name}`}>
                {p.title}
              </option>
            ))}
            <option value="url">From a web address…</option>
            {s.model.type === 'files' ? <option value="files">From a folder</option> : null}
          </select>
        </div>
        {s.model.type === 'url' ? (
          <div className="field">
            <label htmlFor={`${id}-url`}>Model pack address (folder with manifest.json)</label>
            <input
              id={`${id}-url`}
              data-testid="model-url"
              type="url"
              value={s.model.url}
              placeholder="/packs/esrgan-thick-x4/"
              onChange={(event) => {
                setUrl(event.currentTarget.value);
                setSettings({ model: { type: 'url', url: event.currentTarget.value } });
              }}
              // typing done: the pack's manifest says its scale, which the setting follows
              onBlur={(event) =>
                void chooseCustomPack({ type: 'url', url: event.currentTarget.value })
              }
              onKeyDown={(event) => {
                if (event.key === 'Enter')
                  void chooseCustomPack({ type: 'url', url: event.currentTarget.value });
              }}
            />
          </div>
        ) : null}
        <div className="field">
          <label htmlFor={`${id}-folder`}>Or load a model pack folder</label>
          <input
            id={`${id}-folder`}
            type="file"
            // a folder picker: the pack's manifest.json and its files
            {...{ webkitdirectory: '' }}
            onChange={(event) => {
              const files = [...(event.currentTarget.files ?? [])];
              if (files.length > 0) void chooseCustomPack({ type: 'files', files });
            }}
          />
        </div>
        <div className="field-row">
          <div className="field">
            <label htmlFor={`${id}-scale`}>Scale</label>
            <select
              id={`${id}-scale`}
              data-testid="scale-select"
              value={s.scale}
              onChange={(event) => {
                void chooseScale(Number(event.currentTarget.value) === 2 ? 2 : 4);
              }}
            >
              <option value={2}>2×</option>
              <option value={4}>4×</option>
            </select>
          </div>
          <div className="field">
            <label htmlFor={`${id}-backend`}>Run on</label>
            <select
              id={`${id}-backend`}
              data-testid="backend-select"
              value={s.backend}
              onChange={(event) =>
                setSettings({ backend: event.currentTarget.value === 'wasm' ? 'wasm' : 'webgpu' })
              }
            >
              <option value="webgpu" disabled={!gpuOk}>
                GPU (WebGPU{adapter ? `: ${adapter}` : ''})
              </option>
              <option value="wasm">CPU (wasm)</option>
            </select>
          </div>
        </div>
        <div className="field-row">
          <div className="field">
            <label htmlFor={`${id}-tile`}>Tile size</label>
            <select
              id={`${id}-tile`}
              data-testid="tile-select"
              value={s.tileSize}
              onChange={(event) => setSettings({ tileSize: Number(event.currentTarget.value) })}
            >
              <option value={0}>Auto</option>
              <option value={64}>64 px</option>
              <option value={128}>128 px</option>
              <option value={256}>256 px</option>
              <option value={512}>512 px</option>
            </select>
          </div>
          <div className="field wide">
            <label htmlFor={`${id}-codec`}>Output codec</label>
            <select
              id={`${id}-codec`}
              data-testid="codec-select"
              value={s.codec}
              onChange={(event) =>
                void chooseCodec(event.currentTarget.value as 'avc' | 'vp9' | 'av1')
              }
            >
              <option value="avc">H.264 ({fileType('avc')})</option>
              <option value="vp9">VP9 ({fileType('vp9')})</option>
              <option value="av1">AV1 ({fileType('av1')})</option>
            </select>
          </div>
          <div className="field">
            <label htmlFor={`${id}-quality`}>Quality</label>
            <select
              id={`${id}-quality`}
              data-testid="quality-select"
              value={s.quality}
              onChange={(event) =>
                setSettings({ quality: event.currentTarget.value as 'low' | 'medium' | 'high' })
              }
            >
              <option value="high">High</option>
              <option value="medium">Medium</option>
              <option value="low">Small file</option>
            </select>
          </div>
        </div>
        {subtitleChoice ? (
          <div className="field checkbox">
            <input
              id={`${id}-subtitles`}
              data-testid="keep-subtitles"
              type="checkbox"
              checked={s.keepSubtitles}
              disabled={rendering}
              onChange={(event) => setSettings({ keepSubtitles: event.currentTarget.checked })}
            />
            <label htmlFor={`${id}-subtitles`}>
              Keep the subtitles{' '}
              <span className="muted">
                (as an MKV file; Safari, QuickTime and iPhones play MP4 without them)
              </span>
            </label>
          </div>
        ) : null}
        {codecNote ? (
          <p className="hint" data-testid="codec-note">
            {codecNote}
          </p>
        ) : null}
        {s.scaleNote ? (
          <p
            className={s.scaleNote.kind === 'misfit' ? 'warning' : 'hint'}
            data-testid="scale-note"
            data-kind={s.scaleNote.kind}
            role="status"
          >
            {s.scaleNote.text}
          </p>
        ) : null}
        <fieldset className="field-row" disabled={frames === 0}>
          <legend>{frames ? `Frames (1–${frames})` : 'Frames'}</legend>
          <FrameField
            id={`${id}-from`}
            label="From"
            testId="frame-from"
            value={s.frameFrom ?? 1}
            frames={frames}
            problem={rangeProblem ? `${id}-range-note` : null}
            onValue={(n) => setSettings({ frameFrom: n })}
          />
          <FrameField
            id={`${id}-to`}
            label="To"
            testId="frame-to"
            value={s.frameTo ?? (frames || '')}
            frames={frames}
            problem={rangeProblem ? `${id}-range-note` : null}
            onValue={(n) => setSettings({ frameTo: n })}
          />
          <FrameField
            id={`${id}-preview`}
            label="Preview at frame"
            testId="preview-frame"
            value={s.previewFrame}
            frames={frames}
            onValue={(n) => setSettings({ previewFrame: n })}
          />
        </fieldset>
        {shownProblem ? (
          <p className="warning" role="status" id={`${id}-range-note`} data-testid="range-note">
            {shownProblem}
          </p>
        ) : null}
        {undecodableFrom !== null ? (
          <p className="hint" role="status" data-testid="damage-note">
            The file is damaged: frames from {undecodableFrom + 1} on cannot be decoded, so To is
            set to {undecodableFrom} (a render would stop there anyway).
          </p>
        ) : null}
        <TemporalField id={id} settings={s} />
        {interlaced ? (
          <DeinterlaceField
            id={id}
            setting={s.deinterlace}
            streamOrder={streamOrder}
            pictures={summary?.video.fieldPictures ?? null}
          />
        ) : null}
      </fieldset>
    </section>
  );
}

/**
 * Temporal fusion, on by default: for `sr` packs the training-free CFR before the model (README,
 * "Quality"); for Upframe-lite its learned CFR; DLoRAL always fuses.
 */
function TemporalField({ id, settings: s }: { id: string; settings: SettingsSlice }) {
  const model = resolveModel(s);
  const entry =
    model.type === 'builtin'
      ? s.packs.find((p) => p.name === model.name)
      : model.type === 'default'
        ? s.packs.find((p) => p.default)
        : undefined;
  const kind = model.type === 'none' ? 'none' : (entry?.kind ?? 'unknown');
  const fixed = kind === 'none' || kind === 'dloral';
  const checked = kind === 'dloral' || (kind !== 'none' && (s.temporal ?? true));
  const hint =
    kind === 'none'
      ? 'no model'
      : kind === 'dloral'
        ? 'part of DLoRAL, always on'
        : kind === 'lite'
          ? "the model's cross-frame retrieval"
          : 'blends each frame with the motion-aligned previous one where they agree';
  return (
    <div className="field checkbox">
      <input
        id={`${id}-temporal`}
        data-testid="temporal"
        type="checkbox"
        disabled={fixed}
        checked={checked}
        onChange={(event) => setSettings({ temporal: event.currentTarget.checked })}
      />
      <label htmlFor={`${id}-temporal`}>
        Temporal fusion <span className="muted">({hint})</span>
      </label>
    </div>
  );
}

/**
 * Deinterlacing, for a clip that may be interlaced: by default where the stream marks the
 * pictures as fields (as ffmpeg reads them), or every frame, or off; for every frame, which
 * field comes first: the stream's word, or the person's for a stream that says nothing or says it
 * wrongly (kept the wrong way round, moving things come out worse than woven).
 */
function DeinterlaceField(props: {
  id: string;
  setting: SettingsSlice['deinterlace'];
  streamOrder: FieldOrder;
  pictures: { readonly scanned: number; readonly fields: number } | null;
}) {
  const { id, setting, streamOrder, pictures } = props;
  const mode = setting === null ? 'auto' : setting === false ? 'off' : 'every';
  const name = (order: FieldOrder) => (order === 'top-first' ? 'top field' : 'bottom field');
  const seen =
    pictures && pictures.scanned > 0
      ? pictures.fields === 0
        ? `none of its first ${pictures.scanned} pictures are: they are left as they are`
        : `${pictures.fields} of its first ${pictures.scanned} pictures are`
      : null;
  const hint = {
    auto: `Each picture the stream marks as two fields is rebuilt at its first field's moment${seen ? ` (${seen})` : ''}.`,
    every: 'Every frame is rebuilt from its first field, whatever the stream says.',
    off: 'Frames are enhanced as they are stored (woven fields show as combing on motion).',
  }[mode];
  return (
    <>
      <div className="field wide">
        <label htmlFor={`${id}-deinterlace`}>Deinterlace</label>
        <select
          id={`${id}-deinterlace`}
          data-testid="deinterlace"
          value={mode}
          aria-describedby={`${id}-deinterlace-hint`}
          onChange={(event) => {
            const v = event.currentTarget.value;
            setSettings({ deinterlace: v === 'auto' ? null : v === 'off' ? false : true });
          }}
        >
          <option value="auto">Where the stream marks fields</option>
          <option value="every">Every frame</option>
          <option value="off">Off</option>
        </select>
        <p className="hint" id={`${id}-deinterlace-hint`} data-testid="deinterlace-hint">
          {hint}
        </p>
      </div>
      {mode === 'every' ? (
        <div className="field">
          <label htmlFor={`${id}-field-order`}>First field</label>
          <select
            id={`${id}-field-order`}
            data-testid="field-order"
            value={setting === 'top-first' || setting === 'bottom-first' ? setting : 'stream'}
            onChange={(event) => {
              const v = event.currentTarget.value;
              setSettings({ deinterlace: v === 'top-first' || v === 'bottom-first' ? v : true });
            }}
          >
            <option value="stream">As the stream says ({name(streamOrder)})</option>
            <option value="top-first">Top field</option>
            <option value="bottom-first">Bottom field</option>
          </select>
        </div>
      ) : null}
    </>
  );
}

function recommendedTitle(s: SettingsSlice): string {
  const model = resolveModel({ ...s, model: { type: 'default' } });
  const name = model.type === 'builtin' ? model.name : s.packs.find((p) => p.default)?.name;
  return s.packs.find((p) => p.name === name)?.title ?? 'built-in';
}

function clampFrame(text: string, frames: number): number | null {
  const n = Math.round(Number(text));
  if (!Number.isFinite(n) || text.trim() === '') return null;
  return Math.min(Math.max(1, n), Math.max(1, frames));
}

/**
 * A frame number typed as people type: what they type stays in the box while they edit (an
 * empty box, "2" on the way to "20"), a whole number in range takes effect at once, and leaving
 * the box (or Enter) shows the number in effect, brought into 1..frames.
 */
/** `value` once it has stayed the same for `ms`, null until then (and at once when null). */
function useSettled(value: string | null, ms: number): string | null {
  const [settled, setSettled] = useState<string | null>(null);
  useEffect(() => {
    if (value === null) return;
    const timer = setTimeout(() => setSettled(value), ms);
    return () => clearTimeout(timer);
  }, [value, ms]);
  return settled === value ? value : null;
}

function FrameField(props: {
  id: string;
  label: string;
  testId: string;
  /** '' before a clip is open. */
  value: number | '';
  frames: number;
  /** The id of the note that says what is wrong with the range, when something is. */
  problem?: string | null;
  onValue: (frame: number) => void;
}) {
  const { id, label, testId, value, frames, problem = null, onValue } = props;
  const [draft, setDraft] = useState<string | null>(null);
  const settle = (): void => {
    const n = draft === null ? null : clampFrame(draft, frames);
    if (n !== null && n !== value) onValue(n);
    setDraft(null);
  };
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <input
        id={id}
        data-testid={testId}
        type="number"
        min={1}
        max={frames || undefined}
        value={draft ?? value}
        aria-invalid={problem !== null}
        aria-describedby={problem ?? undefined}
        onChange={(event) => {
          const text = event.currentTarget.value;
          setDraft(text);
          const n = Number(text);
          if (text.trim() !== '' && Number.isInteger(n) && n >= 1 && n <= frames) onValue(n);
        }}
        onBlur={settle}
        onKeyDown={(event) => {
          if (event.key === 'Enter') settle();
        }}
      />
    </div>
  );
}
