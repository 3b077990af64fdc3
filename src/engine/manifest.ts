import { UpframeError } from '../shared/errors.ts';
import type { TensorRange } from '../kernels/frame-tensor/frame-tensor.ts';

/**
 * Model-pack manifests (DESIGN.md "Model packs"): a pack is a folder with `manifest.json` and the
 * files it lists. Everything here is pure data + validation so the converter (Node), the engine
 * (worker) and the tests share one definition. No onnxruntime-web here.
 */

export const PACK_FORMAT = 'upframe-pack-1';
export const PACK_INDEX_FORMAT = 'upframe-pack-index-1';

export const PACK_KINDS = ['sr', 'dloral', 'lite'] as const;
export type PackKind = (typeof PACK_KINDS)[number];

export const FILE_ROLES = ['model', 'weights', 'data'] as const;
export type FileRole = (typeof FILE_ROLES)[number];

export const TENSOR_DTYPES = ['float32', 'float16'] as const;
export type TensorDtype = (typeof TENSOR_DTYPES)[number];

export const TENSOR_LAYOUTS = ['NCHW', 'NHWC'] as const;
export type TensorLayout = (typeof TENSOR_LAYOUTS)[number];

// Runtime copy of TensorRange (a runtime import of frame-tensor.ts would pull in its WGSL); the
// two checks below fail to compile if either list gains a value the other lacks.
export const TENSOR_RANGES = ['0,255', '0,1', '-1,1'] as const;
type RangesCoverType = TensorRange extends (typeof TENSOR_RANGES)[number] ? true : never;
type TypeCoversRanges = (typeof TENSOR_RANGES)[number] extends TensorRange ? true : never;
const _rangesMatch: [RangesCoverType, TypeCoversRanges] = [true, true];

export interface PackFile {
  /** Relative to the pack folder, forward slashes, no `..`. */
  readonly path: string;
  readonly bytes: number;
  /** Lower-case hex. */
  readonly sha256: string;
  readonly role: FileRole;
}

/** A dimension is a fixed size or a symbol such as "h" or "h*4" (a symbol times the scale). */
export type TensorDim = number | string;

export interface TensorSpec {
  readonly name: string;
  readonly dtype: TensorDtype;
  readonly shape: readonly TensorDim[];
  readonly layout: TensorLayout;
  readonly range: TensorRange;
}

/** Hints for the tiler, in input pixels. */
export interface TileHints {
  /** Tile sides must be a multiple of this. */
  readonly multiple: number;
  readonly minSize: number;
  readonly preferred: number;
  /** Context to add on each side of a tile so seams do not show. */
  readonly overlap: number;
}

export interface MeasuredCost {
  readonly backend: string;
  readonly threads: number;
  readonly inputWidth: number;
  readonly inputHeight: number;
  /** Median wall-clock time of one run at that size. */
  readonly ms: number;
  readonly where: string;
}

export interface PackCost {
  readonly params: number;
  /** Multiply-adds count twice. */
  readonly flopsPerInputPixel: number;
  readonly measured?: readonly MeasuredCost[];
}

export interface PackManifest {
  readonly format: typeof PACK_FORMAT;
  readonly name: string;
  readonly title: string;
  readonly kind: PackKind;
  readonly scale: number;
  readonly licence: string;
  readonly source: string;
  readonly description: string;
  readonly files: readonly PackFile[];
  readonly inputs: readonly TensorSpec[];
  readonly outputs: readonly TensorSpec[];
  readonly tile?: TileHints;
  readonly cost?: PackCost;
  /** Kind-specific fields ('dloral', 'lite' packs carry theirs here). */
  readonly extra?: Readonly<Record<string, unknown>>;
}

export interface PackIndexEntry {
  readonly name: string;
  readonly title: string;
  readonly kind: PackKind;
  readonly scale: number;
  /** Sum of the pack's file sizes. */
  readonly bytes: number;
  readonly default: boolean;
}

export interface PackIndex {
  readonly format: typeof PACK_INDEX_FORMAT;
  readonly packs: readonly PackIndexEntry[];
}

const NAME_RE = /^[a-z0-9]+(?:[-.][a-z0-9]+)*$/;
const SHA256_RE = /^[0-9a-f]{64}$/;
const SYMBOL_DIM_RE = /^[a-z][a-z0-9_]*(?:\*[1-9][0-9]*)?$/;

/** Collects the location of a value so every error names the field that is wrong. */
class Reader {
  constructor(private readonly file: string) {}

  fail(field: string, what: string): never {
    throw new UpframeError('MODEL_LOAD_FAILED', `${this.file}: ${field} ${what}`);
  }

  object(value: unknown, field: string): Record<string, unknown> {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      this.fail(field, 'must be an object');
    }
    return value as Record<string, unknown>;
  }

  array(value: unknown, field: string, minLength = 0): unknown[] {
    if (!Array.isArray(value)) this.fail(field, 'must be an array');
    if (value.length < minLength) this.fail(field, `must have at least ${minLength} entries`);
    return value as unknown[];
  }

  string(value: unknown, field: string): string {
    if (typeof value !== 'string' || value.length === 0)
      this.fail(field, 'must be a non-empty string');
    return value;
  }

  int(value: unknown, field: string, min: number): number {
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) {
      this.fail(field, `must be an integer >= ${min}`);
    }
    return value;
  }

  number(value: unknown, field: string, min: number): number {
    if (typeof value !== 'number' || !Number.isFinite(value) || value < min) {
      this.fail(field, `must be a number >= ${min}`);
    }
    return value;
  }

  bool(value: unknown, field: string): boolean {
    if (typeof value !== 'boolean') this.fail(field, 'must be true or false');
    return value;
  }

  oneOf<T extends string>(value: unknown, field: string, allowed: readonly T[]): T {
    if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
      this.fail(field, `must be one of ${allowed.map((a) => JSON.stringify(a)).join(', ')}`);
    }
    return value as T;
  }
}

function readFile(r: Reader, value: unknown, field: string): PackFile {
  const o = r.object(value, field);
  const path = r.string(o['path'], `${field}.path`);
  const segments = path.split('/');
  if (path.startsWith('/') || segments.some((s) => s === '' || s === '.' || s === '..')) {
    r.fail(`${field}.path`, `"${path}" must be a relative path inside the pack`);
  }
  const sha256 = r.string(o['sha256'], `${field}.sha256`);
  if (!SHA256_RE.test(sha256)) r.fail(`${field}.sha256`, 'must be 64 lower-case hex digits');
  return {
    path,
    bytes: r.int(o['bytes'], `${field}.bytes`, 0),
    sha256,
    role: r.oneOf(o['role'], `${field}.role`, FILE_ROLES),
  };
}

function readDim(r: Reader, value: unknown, field: string): TensorDim {
  if (typeof value === 'number') return r.int(value, field, 1);
  if (typeof value === 'string' && SYMBOL_DIM_RE.test(value)) return value;
  return r.fail(field, 'must be a positive integer or a symbol like "h" or "h*4"');
}

function readTensor(r: Reader, value: unknown, field: string): TensorSpec {
  const o = r.object(value, field);
  const shape = r.array(o['shape'], `${field}.shape`, 1);
  const layout = r.oneOf(o['layout'], `${field}.layout`, TENSOR_LAYOUTS);
  if (shape.length !== 4) r.fail(`${field}.shape`, `must have 4 dimensions for layout ${layout}`);
  return {
    name: r.string(o['name'], `${field}.name`),
    dtype: r.oneOf(o['dtype'], `${field}.dtype`, TENSOR_DTYPES),
    shape: shape.map((d, i) => readDim(r, d, `${field}.shape[${i}]`)),
    layout,
    range: r.oneOf(o['range'], `${field}.range`, TENSOR_RANGES),
  };
}

function readTile(r: Reader, value: unknown): TileHints {
  const o = r.object(value, 'tile');
  const tile = {
    multiple: r.int(o['multiple'], 'tile.multiple', 1),
    minSize: r.int(o['minSize'], 'tile.minSize', 1),
    preferred: r.int(o['preferred'], 'tile.preferred', 1),
    overlap: r.int(o['overlap'], 'tile.overlap', 0),
  };
  if (tile.minSize % tile.multiple !== 0)
    r.fail('tile.minSize', 'must be a multiple of tile.multiple');
  if (tile.preferred % tile.multiple !== 0) {
    r.fail('tile.preferred', 'must be a multiple of tile.multiple');
  }
  if (tile.preferred < tile.minSize) r.fail('tile.preferred', 'must be >= tile.minSize');
  return tile;
}

function readMeasured(r: Reader, value: unknown, field: string): MeasuredCost {
  const o = r.object(value, field);
  return {
    backend: r.string(o['backend'], `${field}.backend`),
    threads: r.int(o['threads'], `${field}.threads`, 1),
    inputWidth: r.int(o['inputWidth'], `${field}.inputWidth`, 1),
    inputHeight: r.int(o['inputHeight'], `${field}.inputHeight`, 1),
    ms: r.number(o['ms'], `${field}.ms`, 0),
    where: r.string(o['where'], `${field}.where`),
  };
}

function readCost(r: Reader, value: unknown): PackCost {
  const o = r.object(value, 'cost');
  const cost: PackCost = {
    params: r.int(o['params'], 'cost.params', 0),
    flopsPerInputPixel: r.number(o['flopsPerInputPixel'], 'cost.flopsPerInputPixel', 0),
  };
  if (o['measured'] === undefined) return cost;
  const measured = r
    .array(o['measured'], 'cost.measured')
    .map((m, i) => readMeasured(r, m, `cost.measured[${i}]`));
  return { ...cost, measured };
}

function uniqueBy<T>(r: Reader, items: readonly T[], key: (t: T) => string, field: string): void {
  const seen = new Set<string>();
  for (const item of items) {
    const k = key(item);
    if (seen.has(k)) r.fail(field, `lists "${k}" twice`);
    seen.add(k);
  }
}

/**
 * Validates a parsed `manifest.json`. `where` names the pack (a URL, folder or built-in name) so
 * the message says which manifest is broken; every message names the offending field.
 */
export function parseManifest(json: unknown, where: string): PackManifest {
  const r = new Reader(`${where}/manifest.json`);
  const o = r.object(json, 'manifest');
  if (o['format'] !== PACK_FORMAT) {
    r.fail('format', `must be "${PACK_FORMAT}" (found ${JSON.stringify(o['format'])})`);
  }
  const name = r.string(o['name'], 'name');
  if (!NAME_RE.test(name)) r.fail('name', `"${name}" must be lower-case kebab-case`);
  const kind = r.oneOf(o['kind'], 'kind', PACK_KINDS);
  const files = r.array(o['files'], 'files', 1).map((f, i) => readFile(r, f, `files[${i}]`));
  uniqueBy(r, files, (f) => f.path, 'files');
  const inputs = r.array(o['inputs'], 'inputs', 1).map((t, i) => readTensor(r, t, `inputs[${i}]`));
  uniqueBy(r, inputs, (t) => t.name, 'inputs');
  const outputs = r
    .array(o['outputs'], 'outputs', 1)
    .map((t, i) => readTensor(r, t, `outputs[${i}]`));
  uniqueBy(r, outputs, (t) => t.name, 'outputs');
  if (kind === 'sr' && !files.some((f) => f.role === 'model')) {
    r.fail('files', 'must contain a file with role "model" for kind "sr"');
  }
  const manifest: PackManifest = {
    format: PACK_FORMAT,
    name,
    title: r.string(o['title'], 'title'),
    kind,
    scale: r.int(o['scale'], 'scale', 1),
    licence: r.string(o['licence'], 'licence'),
    source: r.string(o['source'], 'source'),
    description: typeof o['description'] === 'string' ? o['description'] : '',
    files,
    inputs,
    outputs,
  };
  const extras: {
    tile?: TileHints;
    cost?: PackCost;
    extra?: Readonly<Record<string, unknown>>;
  } = {};
  if (o['tile'] !== undefined) extras.tile = readTile(r, o['tile']);
  if (o['cost'] !== undefined) extras.cost = readCost(r, o['cost']);
  if (o['extra'] !== undefined) extras.extra = r.object(o['extra'], 'extra');
  return { ...manifest, ...extras };
}

/** Validates `index.json`, the list of built-in packs; exactly one entry is the default. */
export function parsePackIndex(json: unknown, where: string): PackIndex {
  const r = new Reader(`${where}/index.json`);
  const o = r.object(json, 'index');
  if (o['format'] !== PACK_INDEX_FORMAT) {
    r.fail('format', `must be "${PACK_INDEX_FORMAT}" (found ${JSON.stringify(o['format'])})`);
  }
  const packs = r.array(o['packs'], 'packs', 1).map((value, i): PackIndexEntry => {
    const field = `packs[${i}]`;
    const p = r.object(value, field);
    const name = r.string(p['name'], `${field}.name`);
    if (!NAME_RE.test(name)) r.fail(`${field}.name`, `"${name}" must be lower-case kebab-case`);
    return {
      name,
      title: r.string(p['title'], `${field}.title`),
      kind: r.oneOf(p['kind'], `${field}.kind`, PACK_KINDS),
      scale: r.int(p['scale'], `${field}.scale`, 1),
      bytes: r.int(p['bytes'], `${field}.bytes`, 0),
      default: r.bool(p['default'], `${field}.default`),
    };
  });
  uniqueBy(r, packs, (p) => p.name, 'packs');
  // one default per scale: the model a person gets at that scale without choosing
  const defaults = packs.filter((p) => p.default);
  if (defaults.length === 0) r.fail('packs', 'must mark a pack as default');
  for (const p of defaults) {
    if (defaults.some((q) => q !== p && q.scale === p.scale))
      r.fail('packs', `must mark at most one default pack per scale (two at x${p.scale})`);
  }
  return { format: PACK_INDEX_FORMAT, packs };
}

export async function sha256Hex(bytes: ArrayBuffer | ArrayBufferView): Promise<string> {
  const view =
    bytes instanceof ArrayBuffer
      ? new Uint8Array(bytes)
      : new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const digest = await crypto.subtle.digest('SHA-256', view as Uint8Array<ArrayBuffer>);
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join('');
}

/** Checks a downloaded or cached file against its manifest entry before it is used. */
export async function verifyFile(bytes: ArrayBuffer, entry: PackFile): Promise<void> {
  if (bytes.byteLength !== entry.bytes) {
    throw new UpframeError(
      'MODEL_INTEGRITY',
      `${entry.path}: size mismatch (expected ${entry.bytes} bytes, got ${bytes.byteLength})`,
    );
  }
  const actual = await sha256Hex(bytes);
  if (actual !== entry.sha256) {
    throw new UpframeError(
      'MODEL_INTEGRITY',
      `${entry.path}: sha256 mismatch (expected ${entry.sha256}, got ${actual})`,
    );
  }
}
