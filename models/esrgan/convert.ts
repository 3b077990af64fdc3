/**
 * Builds the built-in `sr` packs from the MIT-licensed UpscalerJS ESRGAN TF.js models:
 *
 *   npx tsx models/esrgan/convert.ts [--out models/packs]
 *
 * Writes `<out>/<name>/{model.onnx,manifest.json}` and `<out>/index.json`. Files whose bytes did
 * not change are not rewritten, so running it again is cheap and leaves timestamps alone.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  PACK_FORMAT,
  PACK_INDEX_FORMAT,
  parseManifest,
  parsePackIndex,
  sha256Hex,
} from '../../src/engine/manifest.ts';
import type { MeasuredCost, PackIndex, PackManifest } from '../../src/engine/manifest.ts';
import { readLayersModel } from './layers-model.ts';
import { encodeModel } from './onnx-writer.ts';
import { esrganSource, SIZES } from './sources.ts';
import type { EsrganSize, EsrganSource } from './sources.ts';
import { convertLayersModel, INPUT_NAME, OUTPUT_NAME } from './to-onnx.ts';

const HERE = dirname(fileURLToPath(import.meta.url));
const REPO = resolve(HERE, '../..');
export const BENCH_RESULTS = join(HERE, 'bench-results.json');

export const SCALES = [2, 4] as const;

/**
 * medium x4 is the default: thick is about 10x the work per pixel (14.5 vs 1.4 MFLOP per input
 * pixel) and measured about 10x slower on ORT wasm, for a modest gain; slim is faster still but
 * visibly softer. See bench-results.json for the figures.
 */
export const DEFAULT_PACK = 'esrgan-medium-x4';

/** Cap for the tiler overlap: thick's theoretical receptive field (~150 px) is far wider than its
 * effective one, and an overlap that large would multiply the work of small tiles. */
const MAX_OVERLAP = 16;

export function packName(size: EsrganSize, scale: number): string {
  return `esrgan-${size}-x${scale}`;
}

function titleOf(size: EsrganSize, scale: number): string {
  return `ESRGAN ${size} x${scale} (UpscalerJS)`;
}

export interface BuiltPack {
  readonly manifest: PackManifest;
  readonly model: Uint8Array;
}

export async function buildPack(
  src: EsrganSource,
  measured: readonly MeasuredCost[] | undefined,
): Promise<BuiltPack> {
  const name = packName(src.size, src.scale);
  const layers = await readLayersModel(src.modelJson);
  const converted = convertLayersModel(layers, name);
  if (converted.scale !== src.scale) {
    throw new Error(`${name}: graph scales by ${converted.scale}, package says ${src.scale}`);
  }
  const source = `${src.packageName}@${src.version} ${src.modelDir}`;
  const model = encodeModel(converted.graph, {
    producerName: 'upframe models/esrgan/convert.ts',
    producerVersion: '1',
    docString: `Converted from ${source} (${src.licence}).`,
    metadata: { source, licence: src.licence },
  });
  const meta = src.definition.meta;
  const arch = String(meta['architecture']).toUpperCase();
  const blocks = ['C', 'D', 'G', 'G0', 'T'].map((k) => `${k}=${String(meta[k])}`).join(' ');
  const manifest: PackManifest = {
    format: PACK_FORMAT,
    name,
    title: titleOf(src.size, src.scale),
    kind: 'sr',
    scale: src.scale,
    licence: src.licence,
    source,
    description:
      `${arch} generator (${blocks}) trained on ${String(meta['dataset'])}, from the TF.js ` +
      `layers model of ${src.packageName}, converted to ONNX by models/esrgan/convert.ts. ` +
      `The output is not clamped to its range.`,
    files: [
      { path: 'model.onnx', bytes: model.length, sha256: await sha256Hex(model), role: 'model' },
    ],
    inputs: [
      {
        name: INPUT_NAME,
        dtype: 'float32',
        shape: [1, 3, 'h', 'w'],
        layout: 'NCHW',
        range: src.inputRange,
      },
    ],
    outputs: [
      {
        name: OUTPUT_NAME,
        dtype: 'float32',
        shape: [1, 3, `h*${src.scale}`, `w*${src.scale}`],
        layout: 'NCHW',
        range: src.outputRange,
      },
    ],
    tile: {
      multiple: 1,
      minSize: 8,
      preferred: 128,
      overlap: Math.min(Math.ceil(converted.receptiveRadius), MAX_OVERLAP),
    },
    cost: {
      params: converted.params,
      flopsPerInputPixel: converted.flopsPerInputPixel,
      ...(measured === undefined ? {} : { measured }),
    },
    extra: {
      architecture: meta['architecture'],
      receptiveRadius: converted.receptiveRadius,
      outputClamped: false,
      layers: converted.layerCounts,
      upscalerMeta: meta,
    },
  };
  // Whatever the engine will refuse must fail here, at build time.
  parseManifest(JSON.parse(JSON.stringify(manifest)), name);
  return { manifest, model };
}

async function writeIfChanged(path: string, data: Uint8Array | string): Promise<boolean> {
  const bytes = typeof data === 'string' ? new TextEncoder().encode(data) : data;
  if (existsSync(path)) {
    const old = await readFile(path);
    if (old.length === bytes.length && Buffer.compare(old, bytes) === 0) return false;
  }
  await writeFile(path, bytes);
  return true;
}

export async function readBenchResults(): Promise<Record<string, MeasuredCost[]>> {
  if (!existsSync(BENCH_RESULTS)) return {};
  const json = JSON.parse(await readFile(BENCH_RESULTS, 'utf8')) as {
    packs?: Record<string, MeasuredCost[]>;
  };
  return json.packs ?? {};
}

export async function convertAll(outDir: string): Promise<PackIndex> {
  const bench = await readBenchResults();
  const entries: PackIndex['packs'][number][] = [];
  for (const size of SIZES) {
    for (const scale of SCALES) {
      const t0 = performance.now();
      const src = esrganSource(size, scale);
      const name = packName(size, scale);
      const { manifest, model } = await buildPack(src, bench[name]);
      const dir = join(outDir, name);
      await mkdir(dir, { recursive: true });
      const wroteModel = await writeIfChanged(join(dir, 'model.onnx'), model);
      const wroteManifest = await writeIfChanged(
        join(dir, 'manifest.json'),
        `${JSON.stringify(manifest, null, 2)}\n`,
      );
      entries.push({
        name,
        title: manifest.title,
        kind: manifest.kind,
        scale: manifest.scale,
        bytes: manifest.files.reduce((n, f) => n + f.bytes, 0),
        default: name === DEFAULT_PACK,
      });
      const state = wroteModel || wroteManifest ? 'written' : 'unchanged';
      const ms = (performance.now() - t0).toFixed(0);
      console.log(
        `${name}: ${model.length} bytes, ${manifest.cost?.params} params, ${state} (${ms} ms)`,
      );
    }
  }
  const index: PackIndex = { format: PACK_INDEX_FORMAT, packs: entries };
  parsePackIndex(JSON.parse(JSON.stringify(index)), outDir);
  await writeIfChanged(join(outDir, 'index.json'), `${JSON.stringify(index, null, 2)}\n`);
  return index;
}

function parseArgs(argv: readonly string[]): { out: string } {
  let out = join(REPO, 'models/packs');
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--out' && argv[i + 1] !== undefined) out = resolve(argv[++i]!);
    else if (arg?.startsWith('--out=')) out = resolve(arg.slice('--out='.length));
    else throw new Error(`unknown argument ${arg}; usage: convert.ts [--out models/packs]`);
  }
  return { out };
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { out } = parseArgs(process.argv.slice(2));
  await mkdir(out, { recursive: true });
  await convertAll(out);
}
