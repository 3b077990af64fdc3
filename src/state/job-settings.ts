/**
 * What the page's settings mean for a job: the model they choose, the frames, the worker's job
 * settings and the key of what makes a frame look as it does; and when an opened clip previews
 * by itself. Pure functions of the store's settings (job-actions.ts acts on them).
 */
import { preferredBackend, type SourceSummary } from '../worker/protocol.ts';
import type { JobSettings, ModelChoice, OutputContainer } from '../worker/settings.ts';
import { pageAddress } from './custom-pack.ts';
import type { SettingsSlice } from './store.ts';

/**
 * The frame an opened clip shows first (1-based), and the preview frame's starting value: past
 * the fade-in from black that many clips open with, so the first before/after has a picture in
 * it: a tenth of the way in, at least one second, at most half-way.
 */
export function firstLookFrame(frameCount: number, fps: number): number {
  if (frameCount <= 1) return 1;
  const second = fps > 0 ? fps : 30;
  return Math.min(Math.round(Math.max(frameCount / 10, second)), Math.floor(frameCount / 2)) + 1;
}

/**
 * Output pixels up to which an opened clip gets its first before/after without a click when the
 * page runs on the CPU: 640x360 at 4x (3.7 MP) takes about 7 s on two cores with the default
 * model. A bigger frame there, or a DLoRAL pack on the CPU, waits for the Preview button, so a
 * long first preview never holds the Render button; on a hardware GPU every clip previews.
 */
const CPU_AUTO_PREVIEW_PIXELS = 4_000_000;

export function previewsByItself(summary: SourceSummary, settings: SettingsSlice): boolean {
  if (!summary.decodable) return false;
  const { gpu, backend, scale } = settings;
  if (backend === 'webgpu' && gpu !== null && preferredBackend(gpu) === 'webgpu') return true;
  if (backend === 'webgpu') return false; // WebGPU on a software adapter: far slower than wasm
  const model = resolveModel(settings);
  const pack = model.type === 'builtin' ? settings.packs.find((p) => p.name === model.name) : null;
  if (pack?.kind === 'dloral' || model.type === 'url' || model.type === 'files') return false;
  const { width, height } = summary.video;
  return width * height * scale * scale <= CPU_AUTO_PREVIEW_PIXELS;
}

/** The model the settings mean: the default family at the chosen scale, or what was picked. */
export function resolveModel(settings: SettingsSlice): ModelChoice {
  const { model, packs, scale } = settings;
  // an address typed as "packs/x/" means the page's packs/x/, not the worker script's
  if (model.type === 'url') return { ...model, url: pageAddress(model.url) };
  if (model.type !== 'default') return model;
  const atScale = packs.find((p) => p.default && p.scale === scale);
  if (atScale) return { type: 'builtin', name: atScale.name };
  const def = packs.find((p) => p.default);
  if (!def || def.scale === scale) return model;
  const family = def.name.replace(/-x\d+$/, '');
  const same =
    packs.find((p) => p.name === `${family}-x${scale}`) ?? packs.find((p) => p.scale === scale);
  return same ? { type: 'builtin', name: same.name } : model;
}

/** Why the chosen frames cannot be rendered (From after To), in words, or null when they can. */
export function frameRangeProblem(
  settings: Pick<SettingsSlice, 'frameFrom' | 'frameTo'>,
  frameCount: number,
): string | null {
  const from = settings.frameFrom ?? 1;
  const to = settings.frameTo ?? frameCount;
  if (frameCount === 0 || from <= to) return null;
  return `From (frame ${from}) is after To (frame ${to}): choose a From at or before To.`;
}

/**
 * What decides how an enhanced frame looks (the model, at its scale, temporal fusion and
 * deinterlacing; not the backend, tiles or the output codec): frames the viewer shows that were
 * made with another key are marked as made with other settings.
 */
export function outputKey(js: Pick<JobSettings, 'model' | 'temporal' | 'deinterlace'>): string {
  const model = js.model.type === 'files' ? js.model.files.map((f) => f.name).join('/') : js.model;
  // unset means the default: fusion on; deinterlacing as the stream says (the page offers the
  // setting only for video that may hold fields, where that means on)
  const deinterlace =
    js.deinterlace === null || js.deinterlace === true ? 'stream' : js.deinterlace;
  return JSON.stringify([model, js.temporal ?? true, deinterlace]);
}

/**
 * What decides how long a frame takes: how it looks (outputKey), the backend and the tiles. A
 * preview's time estimates a render's only while this is unchanged.
 */
export function speedKey(
  js: Pick<JobSettings, 'model' | 'temporal' | 'deinterlace' | 'backend' | 'tileSize'>,
): string {
  return JSON.stringify([outputKey(js), js.backend, js.tileSize]);
}

/**
 * Seconds a render of the settings' frame range would take at the preview's speed (one frame's
 * enhancement, which is most of a frame's work), or null when there is no preview of these
 * settings to go by. A floor: the render also decodes, encodes and writes (24 frames of a 640x360
 * clip at 4x on wasm here: 180 s estimated, 226 s taken).
 */
export function renderEstimate(
  preview: { readonly ms: number; readonly key: string } | null,
  settings: SettingsSlice,
  frameCount: number,
): { frames: number; seconds: number } | null {
  if (!preview || frameCount === 0 || frameRangeProblem(settings, frameCount) !== null) return null;
  if (preview.key !== speedKey(jobSettings(settings, frameCount))) return null;
  const from = Math.max(1, settings.frameFrom ?? 1);
  const to = Math.min(frameCount, settings.frameTo ?? frameCount);
  const frames = to - from + 1;
  return { frames, seconds: (frames * preview.ms) / 1000 };
}

/**
 * What the worker is asked to do. `container`: the file type (the clip's
 * `outputContainers[codec]`, which the saved file's name was given); null where no file is made.
 */
export function jobSettings(
  settings: SettingsSlice,
  frameCount: number,
  container: OutputContainer | null = null,
): JobSettings {
  const from = settings.frameFrom ?? 1;
  const to = settings.frameTo ?? frameCount;
  const whole = from <= 1 && to >= frameCount;
  return {
    model: resolveModel(settings),
    backend: settings.backend,
    codec: settings.codec,
    quality: settings.quality,
    tileSize: settings.tileSize,
    frameRange: whole ? null : { start: Math.max(0, from - 1), end: Math.min(frameCount, to) },
    container,
    temporal: settings.temporal,
    deinterlace: settings.deinterlace,
  };
}

/** The file type a render of this clip is written as, with the person's subtitles choice. */
export function outputContainerFor(
  summary: Pick<SourceSummary, 'outputContainers' | 'plainContainers'>,
  settings: Pick<SettingsSlice, 'codec' | 'keepSubtitles'>,
): OutputContainer {
  return (settings.keepSubtitles ? summary.outputContainers : summary.plainContainers)[
    settings.codec
  ];
}
