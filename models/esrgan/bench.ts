/**
 * Measures the converted packs on ORT's wasm backend in Node (a benchmark, not a test):
 *
 *   npx tsx models/esrgan/bench.ts [--packs esrgan-slim-x4,esrgan-medium-x4] [--threads 1] [--runs 3]
 *
 * Runs each pack on a 320x180 input (x4 -> 1280x720), prints the median and writes the figures to
 * bench-results.json, which convert.ts folds into each manifest's `cost.measured`. Reads the packs
 * from models/packs, so run convert.ts first.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-web';
import { parseManifest } from '../../src/engine/manifest.ts';
import type { MeasuredCost } from '../../src/engine/manifest.ts';
import { randomFloats } from '../../src/shared/random.ts';
import { BENCH_RESULTS, readBenchResults } from './convert.ts';

const WIDTH = 320;
const HEIGHT = 180;
const SPAN = { '0,255': 255, '0,1': 1, '-1,1': 2 } as const;

interface Options {
  packs: string[];
  threads: number;
  runs: number;
  dir: string;
}

function parseArgs(argv: readonly string[]): Options {
  const o: Options = {
    packs: ['esrgan-slim-x4', 'esrgan-medium-x4', 'esrgan-thick-x4'],
    threads: 1,
    runs: 3,
    dir: fileURLToPath(new URL('../packs', import.meta.url)),
  };
  for (let i = 0; i < argv.length; i += 2) {
    const [key, value] = [argv[i], argv[i + 1]];
    if (value === undefined) throw new Error(`missing value for ${key}`);
    if (key === '--packs') o.packs = value.split(',');
    else if (key === '--threads') o.threads = Number(value);
    else if (key === '--runs') o.runs = Number(value);
    else if (key === '--dir') o.dir = resolve(value);
    else throw new Error(`unknown argument ${key}`);
  }
  return o;
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

async function benchPack(o: Options, name: string): Promise<MeasuredCost> {
  const dir = join(o.dir, name);
  const manifest = parseManifest(
    JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8')),
    dir,
  );
  const model = await readFile(join(dir, manifest.files[0]!.path));
  const session = await ort.InferenceSession.create(model, { executionProviders: ['wasm'] });
  const input = manifest.inputs[0]!;
  const span = SPAN[input.range];
  const run = async (w: number, h: number): Promise<number> => {
    const x = randomFloats(3 * w * h, w * h, 0, span);
    const t0 = performance.now();
    const out = await session.run({ [input.name]: new ort.Tensor('float32', x, [1, 3, h, w]) });
    const ms = performance.now() - t0;
    for (const t of Object.values(out)) t.dispose();
    return ms;
  };
  // The first run plans memory and packs weights; warm up on a small frame so it costs little.
  await run(64, 36);
  const times: number[] = [];
  for (let i = 0; i < o.runs; i++) times.push(await run(WIDTH, HEIGHT));
  await session.release();
  const ms = Math.round(median(times));
  console.log(
    `${name}: ${ms} ms per ${WIDTH}x${HEIGHT} -> ${WIDTH * manifest.scale}x${HEIGHT * manifest.scale}` +
      ` (runs ${times.map((t) => t.toFixed(0)).join(', ')}; ${o.threads} thread(s))`,
  );
  return {
    backend: 'ort-wasm 1.30 (Node)',
    threads: o.threads,
    inputWidth: WIDTH,
    inputHeight: HEIGHT,
    ms,
    where:
      `${cpus()[0]?.model ?? 'unknown cpu'}, ${cpus().length} cores shared with other jobs ` +
      `(load average ${loadavg()[0]?.toFixed(1)} after the runs)`,
  };
}

const options = parseArgs(process.argv.slice(2));
ort.env.wasm.numThreads = options.threads;
const results = existsSync(BENCH_RESULTS) ? await readBenchResults() : {};
for (const name of options.packs) {
  const m = await benchPack(options, name);
  // One figure per (backend, threads, size): a new measurement replaces the old one.
  const kept = (results[name] ?? []).filter(
    (r) =>
      r.backend !== m.backend ||
      r.threads !== m.threads ||
      r.inputWidth !== m.inputWidth ||
      r.inputHeight !== m.inputHeight,
  );
  results[name] = [...kept, m];
  await writeFile(
    BENCH_RESULTS,
    `${JSON.stringify({ note: 'written by models/esrgan/bench.ts', packs: results }, null, 2)}\n`,
  );
}
