/**
 * A model pack the person brings (a web address or a folder): the page reads its manifest when
 * it is chosen, so the scale setting follows what the pack does. Without this the page said 2x,
 * asked the encoder about 2x and named the file "x2" while an x4 pack made a 4x file.
 */
import { packManifestFile } from '../shared/pack-manifest-file.ts';
import type { ModelChoice } from '../worker/settings.ts';
import { checkScaleFit } from './scale-fit.ts';
import { keepSettings } from './saved-settings.ts';
import { updateSlice, useStore } from './store.ts';

type CustomModel = Extract<ModelChoice, { type: 'url' | 'files' }>;

/**
 * A typed address against the page ("packs/x/" is the page's packs/x/, not the worker script's);
 * as typed when it is empty or no address at all (the worker says so in words).
 */
export function pageAddress(url: string): string {
  const trimmed = url.trim();
  if (trimmed === '' || typeof location === 'undefined') return trimmed;
  return URL.canParse(trimmed, location.href) ? new URL(trimmed, location.href).href : url;
}

/** The address of a pack's manifest, as the worker reads it (packs.ts). */
export function manifestAddress(url: string): string | null {
  const trimmed = url.trim();
  if (trimmed === '' || !URL.canParse(trimmed, location.href)) return null;
  const base = new URL(trimmed, location.href);
  const path = base.pathname.replace(/manifest\.json$/, '');
  base.pathname = path.endsWith('/') ? path : `${path}/`;
  return new URL('manifest.json', base).href;
}

/** The scale the pack's manifest declares, or null when it cannot be read here. */
export async function customPackScale(model: CustomModel): Promise<number | null> {
  try {
    let text: string;
    if (model.type === 'files') {
      const file = packManifestFile(model.files);
      if (!file) return null;
      text = await file.text();
    } else {
      const address = manifestAddress(model.url);
      if (!address) return null;
      const response = await fetch(address);
      if (!response.ok) return null;
      text = await response.text();
    }
    const scale = (JSON.parse(text) as { scale?: unknown }).scale;
    return typeof scale === 'number' && Number.isInteger(scale) && scale > 0 ? scale : null;
  } catch {
    return null; // not readable here: the render says what is wrong with it
  }
}

let reading: Promise<void> = Promise.resolve();

/**
 * Resolves once the last chosen pack's manifest has been read and the settings follow it: a
 * render or preview started straight after typing an address waits for it (else it took the old
 * scale, and the file was named and sized for it while the pack made another).
 */
export function customPackSettled(): Promise<void> {
  // a server that never answers does not hold the render: the worker checks the scale again
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<void>((resolve) => (timer = setTimeout(resolve, SETTLE_MS)));
  return Promise.race([reading, late]).finally(() => clearTimeout(timer));
}

/** How long a render waits for a pack's manifest before it goes on without it. */
const SETTLE_MS = 5000;

/**
 * Chooses a custom pack: at once as it is, then, once its manifest is read, with its scale, and
 * the scale setting moved to it (with the encoder asked about the new size). A pack at a scale
 * the page does not offer (not 2 or 4) keeps the setting; the render says what it makes. An
 * address is kept for the next visit with the scale read, so it holds after a reload too.
 */
export function chooseCustomPack(model: CustomModel): Promise<void> {
  const run = choose(model);
  reading = run.catch(() => undefined);
  return run;
}

async function choose(model: CustomModel): Promise<void> {
  const { scale: _unknown, ...plain } = model;
  updateSlice('settings', { model: plain });
  if (model.type === 'url') keepSettings({ model: plain });
  const scale = await customPackScale(plain);
  const now = useStore.getState().settings.model;
  // a later choice, or more typing, wins
  if (now !== plain || scale === null) return;
  const read = { ...plain, scale };
  updateSlice('settings', { model: read });
  if (read.type === 'url') keepSettings({ model: read });
  const settings = useStore.getState().settings;
  if ((scale === 2 || scale === 4) && settings.scale !== scale) {
    updateSlice('settings', { scale, scaleNote: null });
    keepSettings({ scale });
    await checkScaleFit({ mayLower: false });
  }
}
