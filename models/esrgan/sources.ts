/**
 * The UpscalerJS ESRGAN packages the built-in `sr` packs come from, and what their own code
 * declares about each model (scale, input/output range, architecture), read from the package's
 * model definition rather than typed in here again.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { TensorRange } from '../../src/kernels/frame-tensor/frame-tensor.ts';

const require = createRequire(import.meta.url);

export const SIZES = ['slim', 'medium', 'thick'] as const;
export type EsrganSize = (typeof SIZES)[number];

/** What the package's `getModelDefinition(scale)` returns (the parts used here). */
export interface UpscalerModelDefinition {
  readonly scale: number;
  readonly modelType: string;
  readonly inputRange: readonly [number, number];
  readonly outputRange: readonly [number, number];
  readonly meta: Readonly<Record<string, unknown>>;
  readonly _internals: { readonly path: string; readonly name: string; readonly version: string };
  /** Registers the package's custom layers (RRDN only) on the given tf namespace. */
  readonly setup?: (tf: unknown) => void;
}

export interface EsrganSource {
  readonly size: EsrganSize;
  readonly scale: number;
  /** e.g. `@upscalerjs/esrgan-medium` */
  readonly packageName: string;
  readonly version: string;
  readonly licence: string;
  readonly modelJson: string;
  /** Relative to the package root, e.g. `models/x4` */
  readonly modelDir: string;
  readonly inputRange: TensorRange;
  readonly outputRange: TensorRange;
  readonly definition: UpscalerModelDefinition;
}

function rangeOf(r: readonly [number, number], what: string): TensorRange {
  const key = `${r[0]},${r[1]}`;
  if (key === '0,255' || key === '0,1' || key === '-1,1') return key;
  throw new Error(`${what}: range [${key}] has no TensorRange`);
}

function packageRoot(packageName: string, entry: string): string {
  let dir = dirname(require.resolve(entry));
  for (;;) {
    const pj = join(dir, 'package.json');
    if (existsSync(pj)) {
      const json = JSON.parse(readFileSync(pj, 'utf8')) as { name?: string };
      if (json.name === packageName) return dir;
    }
    const up = dirname(dir);
    if (up === dir) throw new Error(`cannot find the package root of ${packageName}`);
    dir = up;
  }
}

export function esrganSource(size: EsrganSize, scale: number): EsrganSource {
  const packageName = `@upscalerjs/esrgan-${size}`;
  const entry = `${packageName}/${scale}x`;
  // The CJS build: the ESM build's extension-less relative imports do not load in plain Node.
  const definition = require(entry) as UpscalerModelDefinition;
  const root = packageRoot(packageName, entry);
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
    version: string;
    license: string;
  };
  if (definition.scale !== scale || definition.modelType !== 'layers') {
    throw new Error(`${entry}: expected a layers model of scale ${scale}`);
  }
  if (definition._internals.name !== packageName || definition._internals.version !== pkg.version) {
    throw new Error(
      `${entry}: definition names ${definition._internals.name}@${definition._internals.version}`,
    );
  }
  const modelJson = join(root, definition._internals.path);
  return {
    size,
    scale,
    packageName,
    version: pkg.version,
    licence: pkg.license,
    modelJson,
    modelDir: dirname(definition._internals.path),
    inputRange: rangeOf(definition.inputRange, `${entry} inputRange`),
    outputRange: rangeOf(definition.outputRange, `${entry} outputRange`),
    definition,
  };
}
