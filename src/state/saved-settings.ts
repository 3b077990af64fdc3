/**
 * The settings a person chose, kept for their next visit (localStorage, this origin only): the
 * model, scale, output codec, quality, tile size and temporal fusion. Only their own choices are
 * kept (the scale the page lowers for one clip is not), and not what belongs to one clip (its
 * frames, its deinterlacing), the backend (chosen from the GPU each time) or model files picked
 * from disk (the page cannot keep them). What is read back is checked field by field: anything
 * unknown, from an older version or edited by hand, is left at its default.
 */
import type { SettingsSlice } from './store.ts';

const KEY = 'upframe.settings.v1';

export type KeptSettings = Partial<
  Pick<SettingsSlice, 'model' | 'scale' | 'codec' | 'quality' | 'tileSize' | 'temporal'>
>;

type Storage = Pick<globalThis.Storage, 'getItem' | 'setItem'>;

function storage(): Storage | null {
  try {
    return typeof localStorage === 'undefined' ? null : localStorage;
  } catch {
    return null; // storage turned off for the site
  }
}

/** The kept settings that are still valid; `packNames` are the built-in packs there are now. */
export function readKeptSettings(
  packNames: readonly string[],
  from: Storage | null = storage(),
): KeptSettings {
  let raw: unknown;
  try {
    raw = JSON.parse(from?.getItem(KEY) ?? 'null');
  } catch {
    return {};
  }
  if (typeof raw !== 'object' || raw === null) return {};
  const r = raw as Record<string, unknown>;
  const out: { -readonly [K in keyof KeptSettings]: KeptSettings[K] } = {};
  const m = r['model'] as
    { type?: unknown; name?: unknown; url?: unknown; scale?: unknown } | undefined;
  if (m?.type === 'default') out.model = { type: 'default' };
  else if (m?.type === 'builtin' && typeof m.name === 'string' && packNames.includes(m.name)) {
    out.model = { type: 'builtin', name: m.name };
  } else if (m?.type === 'url' && typeof m.url === 'string') {
    // with the scale its manifest declared when it was chosen (custom-pack.ts)
    const scale = m.scale;
    const known = typeof scale === 'number' && Number.isInteger(scale) && scale > 0 && scale <= 16;
    out.model = { type: 'url', url: m.url, ...(known ? { scale } : {}) };
  }
  if (r['scale'] === 2 || r['scale'] === 4) out.scale = r['scale'];
  if (r['codec'] === 'avc' || r['codec'] === 'vp9' || r['codec'] === 'av1') out.codec = r['codec'];
  if (r['quality'] === 'low' || r['quality'] === 'medium' || r['quality'] === 'high') {
    out.quality = r['quality'];
  }
  const tile = r['tileSize'];
  if (typeof tile === 'number' && Number.isInteger(tile) && tile >= 0 && tile <= 4096) {
    out.tileSize = tile;
  }
  if (typeof r['temporal'] === 'boolean') out.temporal = r['temporal'];
  return out;
}

/** Keeps what `patch` (a person's own change) holds of the kept fields, over what was kept. */
export function keepSettings(patch: Partial<SettingsSlice>, to: Storage | null = storage()): void {
  if (!to) return;
  const kept: Record<string, unknown> = {};
  try {
    Object.assign(kept, JSON.parse(to.getItem(KEY) ?? '{}'));
  } catch {
    // unreadable: start again
  }
  let changed = false;
  for (const k of ['model', 'scale', 'codec', 'quality', 'tileSize', 'temporal'] as const) {
    if (!(k in patch)) continue;
    const value = patch[k];
    if (k === 'model' && (value as SettingsSlice['model']).type === 'files') continue;
    kept[k] = value;
    changed = true;
  }
  if (!changed) return;
  try {
    to.setItem(KEY, JSON.stringify(kept));
  } catch {
    // full or turned off: the settings just are not kept
  }
}
