/**
 * The CFR weight pack: `cfr.json` (format "upframe-cfr-1") describes float32 tensors stored
 * little-endian in `cfr.bin` at byte offsets. The training exporter writes it with writeCfrPack;
 * the engine reads it with parseCfrPack. Pure TypeScript (no GPU), so Node tools can use it.
 *
 * Shapes follow PyTorch: a 1x1 conv weight [out, in] (the trailing 1x1 dropped), a Linear weight
 * [out, in]. C = heads * headDim; channel c of Q/K/V belongs to head floor(c / headDim).
 */
import { UpframeError } from '../../shared/errors.ts';
import { mulberry32 } from '../../shared/random.ts';

export const CFR_FORMAT = 'upframe-cfr-1';

/** The canonical order: writeCfrPack stores tensors contiguously in this order. */
export const CFR_TENSOR_NAMES = [
  'q.weight',
  'q.bias',
  'k.weight',
  'k.bias',
  'v.weight',
  'v.bias',
  'tau.weight',
  'tau.bias',
  'out.weight',
  'out.bias',
] as const;

export type CfrTensorName = (typeof CFR_TENSOR_NAMES)[number];

export interface CfrConfig {
  readonly inChannels: number;
  readonly heads: number;
  readonly headDim: number;
  /** Divides (sim - tau) before the ReLU; 3000 in DLoRAL. */
  readonly temperature: number;
}

export interface CfrWeights {
  readonly config: CfrConfig;
  readonly tensors: Readonly<Record<CfrTensorName, Float32Array<ArrayBuffer>>>;
}

export interface CfrPackJson {
  readonly format: typeof CFR_FORMAT;
  readonly inChannels: number;
  readonly heads: number;
  readonly headDim: number;
  readonly temperature: number;
  readonly dtype: 'float32';
  readonly tensors: Readonly<
    Record<CfrTensorName, { readonly offset: number; readonly shape: readonly number[] }>
  >;
}

export function cfrTensorShapes(config: CfrConfig): Record<CfrTensorName, readonly number[]> {
  const { inChannels: cin, heads, headDim } = config;
  const c = heads * headDim;
  return {
    'q.weight': [c, cin],
    'q.bias': [c],
    'k.weight': [c, cin],
    'k.bias': [c],
    'v.weight': [c, cin],
    'v.bias': [c],
    'tau.weight': [1, headDim],
    'tau.bias': [1],
    'out.weight': [cin, c],
    'out.bias': [cin],
  };
}

const count = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

/** Offsets (in floats) of every tensor in the canonical contiguous layout, and the total. */
export function cfrWeightLayout(config: CfrConfig): {
  offsets: Record<CfrTensorName, number>;
  floats: number;
} {
  const shapes = cfrTensorShapes(config);
  const offsets = {} as Record<CfrTensorName, number>;
  let at = 0;
  for (const name of CFR_TENSOR_NAMES) {
    offsets[name] = at;
    at += count(shapes[name]);
  }
  return { offsets, floats: at };
}

/** All tensors concatenated in the canonical order (what the GPU weight buffer holds). */
export function packCfrWeights(weights: CfrWeights): Float32Array<ArrayBuffer> {
  const { offsets, floats } = cfrWeightLayout(weights.config);
  const out = new Float32Array(floats);
  for (const name of CFR_TENSOR_NAMES) out.set(weights.tensors[name], offsets[name]);
  return out;
}

function fail(message: string): never {
  throw new UpframeError('MODEL_LOAD_FAILED', `CFR weights: ${message}`);
}

function positiveInt(json: Record<string, unknown>, key: string): number {
  const v = json[key];
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) {
    fail(`"${key}" must be a positive integer, got ${JSON.stringify(v)}.`);
  }
  return v;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function checkConfig(config: CfrConfig): void {
  const c = config as unknown as Record<string, unknown>;
  for (const key of ['inChannels', 'heads', 'headDim']) positiveInt(c, key);
  if (!(Number.isFinite(config.temperature) && config.temperature > 0)) {
    fail(`"temperature" must be a positive number, got ${JSON.stringify(config.temperature)}.`);
  }
}

/**
 * Reads and validates a pack. `description` is the parsed cfr.json (or its text); `bin` is
 * cfr.bin. Every failure is MODEL_LOAD_FAILED with a message naming the bad field or tensor.
 */
export function parseCfrPack(description: unknown, bin: ArrayBuffer | Uint8Array): CfrWeights {
  let json: unknown = description;
  if (typeof description === 'string') {
    try {
      json = JSON.parse(description);
    } catch (err) {
      fail(`cfr.json is not valid JSON (${(err as Error).message}).`);
    }
  }
  if (!isRecord(json)) fail('cfr.json must hold an object.');
  if (json['format'] !== CFR_FORMAT) {
    fail(`"format" must be "${CFR_FORMAT}", got ${JSON.stringify(json['format'])}.`);
  }
  if (json['dtype'] !== 'float32') {
    fail(`"dtype" must be "float32", got ${JSON.stringify(json['dtype'])}.`);
  }
  const config: CfrConfig = {
    inChannels: positiveInt(json, 'inChannels'),
    heads: positiveInt(json, 'heads'),
    headDim: positiveInt(json, 'headDim'),
    temperature: json['temperature'] as number,
  };
  checkConfig(config);
  const described = json['tensors'];
  if (!isRecord(described)) fail('"tensors" must be an object.');
  const shapes = cfrTensorShapes(config);
  for (const name of Object.keys(described)) {
    if (!(CFR_TENSOR_NAMES as readonly string[]).includes(name)) {
      fail(`unknown tensor "${name}" (expected ${CFR_TENSOR_NAMES.join(', ')}).`);
    }
  }
  const bytes = bin instanceof Uint8Array ? bin : new Uint8Array(bin);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const tensors = {} as Record<CfrTensorName, Float32Array<ArrayBuffer>>;
  for (const name of CFR_TENSOR_NAMES) {
    const entry = described[name];
    if (!isRecord(entry)) fail(`tensor "${name}" is missing.`);
    const shape = entry['shape'];
    const expected = shapes[name];
    if (
      !Array.isArray(shape) ||
      shape.length !== expected.length ||
      shape.some((d, i) => d !== expected[i])
    ) {
      fail(
        `tensor "${name}" has shape ${JSON.stringify(shape)}, expected ${JSON.stringify(expected)}.`,
      );
    }
    const offset = entry['offset'];
    if (typeof offset !== 'number' || !Number.isInteger(offset) || offset < 0 || offset % 4) {
      fail(`tensor "${name}" has offset ${JSON.stringify(offset)}, not a multiple of 4 bytes.`);
    }
    const n = count(expected);
    if (offset + n * 4 > bytes.byteLength) {
      fail(
        `tensor "${name}" needs bytes ${offset}..${offset + n * 4} but cfr.bin has ${bytes.byteLength}.`,
      );
    }
    const values = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      const v = view.getFloat32(offset + i * 4, true);
      if (!Number.isFinite(v)) fail(`tensor "${name}" holds a non-finite value at index ${i}.`);
      values[i] = v;
    }
    tensors[name] = values;
  }
  return { config, tensors };
}

/** Writes a pack in the canonical layout: tensors contiguous, in CFR_TENSOR_NAMES order. */
export function writeCfrPack(weights: CfrWeights): { json: string; bin: Uint8Array<ArrayBuffer> } {
  checkConfig(weights.config);
  const shapes = cfrTensorShapes(weights.config);
  for (const name of CFR_TENSOR_NAMES) {
    const n = count(shapes[name]);
    if (weights.tensors[name].length !== n) {
      throw new UpframeError(
        'INVALID_OPTION',
        `CFR weights: tensor "${name}" has ${weights.tensors[name].length} values, expected ${n} for shape ${JSON.stringify(shapes[name])}.`,
      );
    }
  }
  const { offsets } = cfrWeightLayout(weights.config);
  const packed = packCfrWeights(weights);
  const bin = new Uint8Array(packed.byteLength);
  const view = new DataView(bin.buffer);
  for (let i = 0; i < packed.length; i++) view.setFloat32(i * 4, packed[i]!, true);
  const tensors = {} as Record<CfrTensorName, { offset: number; shape: readonly number[] }>;
  for (const name of CFR_TENSOR_NAMES) {
    tensors[name] = { offset: offsets[name] * 4, shape: shapes[name] };
  }
  const { inChannels, heads, headDim, temperature } = weights.config;
  const json: CfrPackJson = {
    format: CFR_FORMAT,
    inChannels,
    heads,
    headDim,
    temperature,
    dtype: 'float32',
    tensors,
  };
  return { json: JSON.stringify(json, null, 2), bin };
}

/**
 * Seeded random weights of the real layout (tests and tiny packs). Each weight is uniform in
 * +-1/sqrt(fan_in), like PyTorch's default init of conv and linear layers.
 */
export function randomCfrWeights(config: CfrConfig, seed: number): CfrWeights {
  checkConfig(config);
  const rand = mulberry32(seed);
  const shapes = cfrTensorShapes(config);
  const fanIn: Record<CfrTensorName, number> = {
    'q.weight': config.inChannels,
    'q.bias': config.inChannels,
    'k.weight': config.inChannels,
    'k.bias': config.inChannels,
    'v.weight': config.inChannels,
    'v.bias': config.inChannels,
    'tau.weight': config.headDim,
    'tau.bias': config.headDim,
    'out.weight': config.heads * config.headDim,
    'out.bias': config.heads * config.headDim,
  };
  const tensors = {} as Record<CfrTensorName, Float32Array<ArrayBuffer>>;
  for (const name of CFR_TENSOR_NAMES) {
    const bound = 1 / Math.sqrt(fanIn[name]);
    tensors[name] = Float32Array.from(
      { length: count(shapes[name]) },
      () => (rand() * 2 - 1) * bound,
    );
  }
  return { config, tensors };
}
