/**
 * Reads a TF.js "layers-model" (model.json + weight shards) into plain data: the Keras functional
 * topology and one Float32Array per named weight. Only what the UpscalerJS ESRGAN models use is
 * accepted; anything else fails loudly so a new package version cannot convert silently wrong.
 */
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';

export interface KerasLayer {
  readonly name: string;
  readonly className: string;
  readonly config: Readonly<Record<string, unknown>>;
  /** Names of the layers whose (single) output feeds this layer, in order. */
  readonly inputs: readonly string[];
}

export interface WeightSpec {
  readonly name: string;
  readonly shape: readonly number[];
  readonly dtype: string;
}

export interface LayersModel {
  readonly layers: readonly KerasLayer[];
  readonly inputLayer: string;
  readonly outputLayer: string;
  readonly weights: ReadonlyMap<string, { shape: readonly number[]; data: Float32Array }>;
  /** The raw JSON pieces, for handing to TF.js itself in tests. */
  readonly modelTopology: unknown;
  readonly weightSpecs: readonly WeightSpec[];
  readonly weightData: ArrayBuffer;
  /** Every file read (model.json and shards), for up-to-date checks. */
  readonly files: readonly string[];
}

function fail(path: string, what: string): never {
  throw new Error(`${path}: ${what}`);
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Keras inbound node entry: [layerName, nodeIndex, tensorIndex, kwargs]. */
function inboundName(path: string, layer: string, entry: unknown): string {
  if (!Array.isArray(entry) || typeof entry[0] !== 'string') {
    fail(path, `layer ${layer}: malformed inbound node ${JSON.stringify(entry)}`);
  }
  if (entry[1] !== 0 || entry[2] !== 0) {
    fail(path, `layer ${layer}: shared layers / multi-output layers are not supported`);
  }
  return entry[0];
}

export async function readLayersModel(modelJsonPath: string): Promise<LayersModel> {
  const path = modelJsonPath;
  const json: unknown = JSON.parse(await readFile(path, 'utf8'));
  if (!isRecord(json) || json['format'] !== 'layers-model') fail(path, 'not a TF.js layers-model');
  const topology = json['modelTopology'];
  if (!isRecord(topology)) fail(path, 'no modelTopology');
  const modelConfig = topology['model_config'];
  if (
    !isRecord(modelConfig) ||
    !['Functional', 'Model'].includes(String(modelConfig['class_name']))
  ) {
    fail(path, 'model_config is not a Keras functional model');
  }
  const config = modelConfig['config'];
  if (!isRecord(config) || !Array.isArray(config['layers'])) fail(path, 'no layers');

  const layers: KerasLayer[] = (config['layers'] as unknown[]).map((raw, i) => {
    if (!isRecord(raw) || typeof raw['class_name'] !== 'string' || !isRecord(raw['config'])) {
      fail(path, `layers[${i}] is malformed`);
    }
    const name = typeof raw['name'] === 'string' ? raw['name'] : fail(path, `layers[${i}] no name`);
    const inbound = raw['inbound_nodes'];
    if (!Array.isArray(inbound) || inbound.length > 1) {
      fail(path, `layer ${name}: expected at most one inbound node (shared layers unsupported)`);
    }
    const node: unknown = inbound[0] ?? [];
    if (!Array.isArray(node)) fail(path, `layer ${name}: malformed inbound node`);
    return {
      name,
      className: raw['class_name'],
      config: raw['config'],
      inputs: node.map((e: unknown) => inboundName(path, name, e)),
    };
  });

  const ends = (key: string): string => {
    const list = config[key];
    if (!Array.isArray(list) || list.length !== 1)
      fail(path, `${key} must list exactly one tensor`);
    return inboundName(path, key, list[0]);
  };

  const manifest = json['weightsManifest'];
  if (!Array.isArray(manifest)) fail(path, 'no weightsManifest');
  const specs: WeightSpec[] = [];
  const shardPaths: string[] = [];
  for (const group of manifest as unknown[]) {
    if (!isRecord(group) || !Array.isArray(group['paths']) || !Array.isArray(group['weights'])) {
      fail(path, 'malformed weightsManifest group');
    }
    for (const p of group['paths'] as unknown[]) shardPaths.push(join(dirname(path), String(p)));
    for (const w of group['weights'] as unknown[]) {
      if (!isRecord(w) || typeof w['name'] !== 'string' || !Array.isArray(w['shape'])) {
        fail(path, 'malformed weight spec');
      }
      if (w['dtype'] !== 'float32' || w['quantization'] !== undefined) {
        fail(path, `weight ${w['name']}: only unquantised float32 weights are supported`);
      }
      specs.push({ name: w['name'], shape: w['shape'] as number[], dtype: 'float32' });
    }
  }

  // Shards are one byte stream cut into files; weights follow each other in manifest order.
  const shards = await Promise.all(shardPaths.map((p) => readFile(p)));
  const total = shards.reduce((n, s) => n + s.length, 0);
  const all = new Uint8Array(total);
  let at = 0;
  for (const s of shards) {
    all.set(s, at);
    at += s.length;
  }
  const weights = new Map<string, { shape: readonly number[]; data: Float32Array }>();
  let offset = 0;
  for (const spec of specs) {
    const count = spec.shape.reduce((a, b) => a * b, 1);
    if (offset + count * 4 > total) fail(path, `weight ${spec.name} runs past the shards`);
    // Copy out: shard bytes are not 4-aligned in general and the copy owns its memory.
    const data = new Float32Array(all.buffer.slice(offset, offset + count * 4));
    weights.set(spec.name, { shape: spec.shape, data });
    offset += count * 4;
  }
  if (offset !== total) fail(path, `shards hold ${total} bytes but the weights need ${offset}`);

  return {
    layers,
    inputLayer: ends('input_layers'),
    outputLayer: ends('output_layers'),
    weights,
    modelTopology: topology,
    weightSpecs: specs,
    weightData: all.buffer,
    files: [path, ...shardPaths],
  };
}
