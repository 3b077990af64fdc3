/**
 * Which methods `npm run eval` runs at one scale, from the built-in pack index (dist/packs/index.json,
 * a copy of models/packs/index.json made by the build) and the command-line options. Pure, so the
 * list is tested without a browser (methods.test.ts).
 *
 * At every scale: the ESRGAN packs (slim, medium; thick only with --thick) per frame and with the
 * app's training-free temporal fusion, then Upframe-lite with its learned CFR on and off, then
 * tiny-dloral where its pack has that scale (it is x4). A built-in pack missing from the index is
 * a row with a note instead of a run, so a pack still being trained never fails the eval.
 */

export type EvalScale = 2 | 4;

export const EVAL_SCALES: readonly EvalScale[] = [4, 2];

export type EvalPack = { type: 'builtin'; name: string } | { type: 'url'; url: string };

export interface EvalMethod {
  /** The "method" column. */
  readonly name: string;
  readonly pack: EvalPack;
  readonly pipeline: 'sr' | 'app';
  readonly backend: 'wasm' | 'webgpu';
  /** 'app' only: temporal fusion on/off; null = the pack's default. */
  readonly temporal: boolean | null;
  /** The "temporal" column. */
  readonly label: string;
}

/** A row that is printed but not run, and why. */
export interface SkippedMethod {
  readonly name: string;
  readonly label: string;
  readonly note: string;
}

export interface MethodOptions {
  readonly thick: boolean;
  /** Names in the built-in pack index. */
  readonly builtinPacks: ReadonlySet<string>;
  /** Names in models/packs/index.json, when it lists a pack the built app does not (stale build). */
  readonly sourcePacks?: ReadonlySet<string>;
  /** The tiny-dloral pack's URL and scale, or null when it is not built. */
  readonly dloral: { readonly url: string; readonly scale: number } | null;
}

export function evalMethods(
  scale: EvalScale,
  options: MethodOptions,
): { run: EvalMethod[]; skipped: SkippedMethod[] } {
  const run: EvalMethod[] = [];
  const skipped: SkippedMethod[] = [];
  const builtin = (name: string): EvalPack | null => {
    if (options.builtinPacks.has(name)) return { type: 'builtin', name };
    skipped.push({
      name,
      label: '–',
      note: options.sourcePacks?.has(name)
        ? 'skipped: in models/packs/index.json but not in the built app (npm run build)'
        : 'skipped: no built-in pack of that name in models/packs/index.json',
    });
    return null;
  };
  for (const size of ['slim', 'medium', ...(options.thick ? ['thick'] : [])]) {
    const name = `esrgan-${size}-x${scale}`;
    const pack = builtin(name);
    if (!pack) continue;
    run.push(
      { name, pack, pipeline: 'sr', backend: 'wasm', temporal: null, label: 'per frame' },
      {
        name: `${name} + temporal fusion`,
        pack,
        pipeline: 'app',
        backend: 'wasm',
        temporal: true,
        label: 'training-free CFR on the input',
      },
    );
  }
  const lite = `upframe-lite-x${scale}`;
  const litePack = builtin(lite);
  if (litePack)
    run.push(
      {
        name: lite,
        pack: litePack,
        pipeline: 'app',
        backend: 'wasm',
        temporal: true,
        label: 'learned CFR',
      },
      {
        name: `${lite}, CFR off`,
        pack: litePack,
        pipeline: 'app',
        backend: 'wasm',
        temporal: false,
        label: 'per frame (CFR fuses a frame with itself)',
      },
    );
  if (options.dloral?.scale === scale)
    run.push({
      name: 'tiny-dloral (random weights)',
      pack: { type: 'url', url: options.dloral.url },
      pipeline: 'app',
      backend: 'wasm',
      temporal: null,
      label: 'CFR (its own pipeline)',
    });
  if (!options.thick)
    skipped.push({
      name: `esrgan-thick-x${scale}`,
      label: 'per frame',
      note: 'not run (about 13x slower than medium at x4; add --thick)',
    });
  // models/tiny-dloral generates an x4 pack; unbuilt, it has no manifest to tell its scale
  if (!options.dloral && scale === 4)
    skipped.push({ name: 'tiny-dloral', label: '–', note: 'skipped: not built' });
  return { run, skipped };
}
