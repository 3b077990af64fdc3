/**
 * `npm run bench -- [--json FILE] [--quick] [--only NAME,...] [--cfr96] [--long FRAMES]`
 *
 * Speed and memory of the built app in headless Chromium (dist/bench.html, src/bench/): the media
 * path alone, the `sr` engine on wasm and on WebGPU, the naive WebGPU pipeline with CPU round
 * trips, the CFR kernels at DLoRAL's latent tile, the tiny DLoRAL pack when it is built, a long
 * clip's memory, the CPU deinterlacer on 1080i frames, and UpscalerJS with the same weights side
 * by side. Prints a table and writes
 * JSON (default .cache/bench/latest.json). Figures measured on a software adapter (SwiftShader)
 * say nothing about a real GPU; the table names the adapter.
 *
 * The CFR cases at DLoRAL's 96 x 96 latent tile (cfr-96-k16, cfr-96-kHW) run banded, a submit
 * between bands. On a software adapter they take minutes each, so there they run only when asked:
 * `--only cfr-96` (both), `--only cfr-96-k16`, or `--cfr96` on top of the default run.
 *
 * The long clip (identity transcode with an AAC track, the heap at a tenth, half and all of it)
 * has 20000 frames (14 minutes at 24 fps) unless `--long FRAMES` says otherwise: 172800 is a
 * two-hour film.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import type { BenchApi, Outcome, PipelineRequest } from '../../src/bench/api.ts';
import type { EnvInfo } from '../../src/bench/types.ts';
import { openBenchPage, ROOT, type BenchSession } from './browser.ts';
import { CLIP_DIR, testClip } from './clips.ts';
import { subtitleCase, type SubtitleCaseResult } from './subtitles.ts';
import { renderTables, type BenchCase, type BenchReport } from './report.ts';

interface Args {
  json: string;
  quick: boolean;
  only: Set<string> | null;
  cfr96: boolean;
  longFrames: number;
}

function parseArgs(argv: readonly string[]): Args {
  let json = join(ROOT, '.cache', 'bench', 'latest.json');
  let quick = false;
  let only: Set<string> | null = null;
  let cfr96 = false;
  let longFrames = 20000;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--quick') quick = true;
    else if (arg === '--json') json = resolve(argv[++i] ?? '');
    else if (arg === '--only') only = new Set((argv[++i] ?? '').split(','));
    else if (arg === '--cfr96') cfr96 = true;
    else if (arg === '--long') {
      longFrames = Number(argv[++i]);
      if (!Number.isInteger(longFrames) || longFrames < 10) {
        console.error('--long takes a whole number of frames, at least 10.');
        process.exit(2);
      }
    } else {
      console.error(
        `Unknown option ${arg}. Usage: npm run bench -- [--json FILE] [--quick] [--only NAME,...] [--cfr96] [--long FRAMES]`,
      );
      process.exit(2);
    }
  }
  return { json, quick, only, cfr96, longFrames };
}

const DEFAULT_PACK = { type: 'builtin' as const, name: 'esrgan-medium-x4' };
const TINY_DLORAL = join(ROOT, 'models', 'packs', 'tiny-dloral');

/** SwiftShader and the like: isFallbackAdapter, or a known CPU rasteriser's name. */
function isSoftwareAdapter(env: EnvInfo): boolean {
  const g = env.gpu;
  if (!g) return true;
  const names = `${g.vendor} ${g.architecture} ${g.device} ${g.description}`;
  return g.isFallbackAdapter || /swiftshader|llvmpipe|lavapipe|software|warp/i.test(names);
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const n = sorted.length;
  if (n === 0) return NaN;
  return n % 2 ? sorted[(n - 1) / 2]! : (sorted[n / 2 - 1]! + sorted[n / 2]!) / 2;
}

type Api = BenchApi;

async function call<K extends keyof Api>(
  session: BenchSession,
  method: K,
  ...args: Parameters<Api[K]>
): Promise<Awaited<ReturnType<Api[K]>>> {
  return (await session.page.evaluate(
    ([m, a]) => {
      const api = window.upframeBench!;
      return (api[m] as (...x: unknown[]) => Promise<unknown>)(...a);
    },
    [method, args] as const,
  )) as Awaited<ReturnType<Api[K]>>;
}

function clipUrl(path: string): string {
  return `/bench-media/${basename(path)}`;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const q = args.quick;
  const want = (name: string): boolean => args.only === null || args.only.has(name);
  const clips = {
    hd: testClip(1280, 720, q ? 24 : 72),
    sr: testClip(320, 180, 4),
    small: testClip(32, 32, 4),
    long: testClip(160, 96, args.longFrames, 24, true),
  };
  const mounts: Record<string, string> = {
    '/bench-media/': CLIP_DIR,
    '/peer-model/': join(ROOT, 'node_modules', '@upscalerjs', 'esrgan-medium', 'models', 'x4'),
    '/tfjs-wasm/': join(ROOT, 'node_modules', '@tensorflow', 'tfjs-backend-wasm', 'dist'),
  };
  const dloralBuilt = existsSync(join(TINY_DLORAL, 'manifest.json'));
  if (dloralBuilt) mounts['/tiny-dloral/'] = TINY_DLORAL;

  const session = await openBenchPage(mounts);
  const cases: BenchCase[] = [];
  const started = Date.now();
  let env: EnvInfo;
  try {
    env = await session.page.evaluate(() => window.upframeBench!.env());
    const log = (text: string): void =>
      console.log(`[${((Date.now() - started) / 1000).toFixed(0).padStart(4)} s] ${text}`);

    const pipeline = async (
      name: string,
      note: string,
      request: PipelineRequest,
    ): Promise<void> => {
      if (!want(name)) return;
      log(`${name}: ${note}`);
      const outcome: Outcome<unknown> = await call(session, 'pipeline', request);
      cases.push({ name, note, kind: 'pipeline', request, outcome } as BenchCase);
      if (!outcome.ok) log(`${name} failed: ${outcome.error.code}: ${outcome.error.message}`);
    };

    await pipeline('identity-720p', 'media path alone: demux, decode, encode, mux (no model)', {
      clipUrl: clipUrl(clips.hd),
      pack: null,
      pipeline: 'sr',
      backend: 'wasm',
      tileSize: 0,
      runs: 3,
      frames: 0,
    });
    await pipeline('sr-wasm', 'the esrgan-medium-x4 sr pack on ORT wasm, automatic tiles', {
      clipUrl: clipUrl(clips.sr),
      pack: DEFAULT_PACK,
      pipeline: 'sr',
      backend: 'wasm',
      tileSize: 0,
      runs: q ? 1 : 2,
      frames: 2,
    });
    await pipeline(
      'lite-wasm',
      'the x4 default, Upframe-lite (learned CFR on), through the worker factory on ORT wasm',
      {
        clipUrl: clipUrl(clips.sr),
        pack: { type: 'builtin', name: 'upframe-lite-x4' },
        pipeline: 'app',
        backend: 'wasm',
        tileSize: 0,
        runs: q ? 1 : 2,
        // the whole 4-frame clip, so the temporal path's per-frame buffers show in the peak heap
        frames: q ? 2 : 4,
      },
    );
    await pipeline(
      'sr-webgpu',
      'the same sr pack on ORT WebGPU, zero-copy path; 32x32 because SwiftShader runs ORT WebGPU ~100x slower than wasm (320x180 would take minutes per frame)',
      {
        clipUrl: clipUrl(clips.small),
        pack: DEFAULT_PACK,
        pipeline: 'sr',
        backend: 'webgpu',
        tileSize: 0,
        runs: q ? 1 : 2,
        frames: 1,
      },
    );
    await pipeline(
      'naive-webgpu',
      'same pack and size on ORT WebGPU with CPU round trips per frame (pixels to CPU, CPU tensor, upload, run, read back)',
      {
        clipUrl: clipUrl(clips.small),
        pack: DEFAULT_PACK,
        pipeline: 'naive',
        backend: 'webgpu',
        tileSize: 0,
        runs: q ? 1 : 2,
        frames: 1,
      },
    );
    if (dloralBuilt) {
      await pipeline(
        'tiny-dloral',
        'tiny DLoRAL pack (random weights, real layout) through the worker factory on ORT wasm (its WebGPU path on SwiftShader is too slow for this run)',
        {
          clipUrl: clipUrl(clips.small),
          pack: { type: 'url', url: '/tiny-dloral/' },
          pipeline: 'app',
          backend: 'wasm',
          tileSize: 0,
          runs: 1,
          frames: 2,
        },
      );
    } else if (want('tiny-dloral')) {
      cases.push({ name: 'tiny-dloral', kind: 'skipped', note: 'skipped: not built' });
      log('tiny-dloral: skipped: not built (models/packs/tiny-dloral/manifest.json is missing)');
    }

    // 24 x 24: one band (cfrBandRows keeps the whole tile), one submit per tile
    for (const topK of [16, 'all'] as const) {
      const name = `cfr-24-k${topK === 'all' ? 'HW' : topK}`;
      if (!want(name) && !want('cfr')) continue;
      log(`${name}: CFR fusion on a 24x24 latent tile, 4 -> 9 heads x 64, k = ${topK}`);
      const outcome = await call(session, 'cfr', 24, topK, q ? 1 : 3, false);
      cases.push({ name, kind: 'cfr', outcome });
      if (!outcome.ok) log(`${name} failed: ${outcome.error.message}`);
    }
    // 96 x 96, DLoRAL's latent tile: banded, a submit and a wait between bands. Minutes per tile
    // on a software adapter (cost grows as (HW)^2: ~256x the 24 x 24 tile), so only when asked.
    const software = isSoftwareAdapter(env);
    for (const topK of [16, 'all'] as const) {
      const k = topK === 'all' ? 'HW' : String(topK);
      const name = `cfr-96-k${k}`;
      const named = args.only !== null && (args.only.has(name) || args.only.has('cfr-96'));
      if (!named && !want('cfr')) continue;
      if (named || args.cfr96 || !software) {
        log(
          `${name}: CFR fusion on a 96x96 latent tile, 4 -> 9 heads x 64, k = ${topK}, banded${software ? ' (software adapter: minutes)' : ''}`,
        );
        const outcome = await call(session, 'cfr', 96, topK, software || q ? 1 : 3, true);
        cases.push({ name, kind: 'cfr', outcome });
        if (!outcome.ok) log(`${name} failed: ${outcome.error.message}`);
        continue;
      }
      const note = `not run on a software adapter (minutes per tile); run with npm run bench -- --only ${name} (or --cfr96)`;
      log(`${name}: skipped: ${note}`);
      const plan = await call(session, 'cfrPlan', 96, topK);
      cases.push({
        name: `cfr-96-plan-k${k}`,
        kind: 'cfr-plan',
        size: 96,
        topK: topK === 'all' ? 96 * 96 : topK,
        note,
        ...plan,
      });
    }

    if (want('deinterlace')) {
      log(
        'deinterlace: the deinterlacers (CPU on I420 and RGBA, the GPU pass) on 1920x1080 frames (1080i)',
      );
      const outcome = await call(session, 'deinterlace', 1920, 1080, q ? 5 : 20);
      cases.push({ name: 'deinterlace', kind: 'deinterlace', outcome });
      if (!outcome.ok) log(`deinterlace failed: ${outcome.error.message}`);
    }

    if (want('long-clip')) {
      const n = args.longFrames;
      const points = [Math.round(n / 10), Math.round(n / 2), n];
      log(
        `long-clip: identity transcode of ${n} frames at 160x96 with audio, heap at ${points.join(', ')} frames`,
      );
      const outcome = await call(session, 'longClip', clipUrl(clips.long), points);
      cases.push({ name: 'long-clip', kind: 'long', outcome });
    }

    if (want('subtitles')) {
      const minutes = q ? 2 : 20;
      for (const tracks of [1, 8]) {
        log(
          `subtitles: a ${minutes}-minute 720p MKV with ${tracks} SRT track(s), through its index and by its clusters`,
        );
        let outcome: Outcome<SubtitleCaseResult>;
        try {
          outcome = { ok: true, value: await subtitleCase(minutes, tracks) };
        } catch (err) {
          outcome = { ok: false, error: { code: 'INTERNAL', message: String(err) } };
        }
        cases.push({ name: `subtitles-${tracks}`, kind: 'subtitles', outcome });
      }
    }

    if (want('peer')) {
      log('peer: ours (ORT wasm) vs UpscalerJS (TF.js wasm), esrgan-medium x4 at 320x180');
      const outcome = await call(session, 'peer', {
        clipUrl: clipUrl(clips.sr),
        frames: q ? 1 : 2,
        backend: 'wasm',
        peerBackend: 'wasm',
        modelUrl: '/peer-model/model.json',
        wasmBase: '/tfjs-wasm/',
      });
      cases.push({ name: 'peer', kind: 'peer', outcome });
      if (!outcome.ok) log(`peer failed: ${outcome.error.message}`);
    }
  } finally {
    await session.close();
  }

  const report: BenchReport = {
    date: new Date().toISOString(),
    command: `npm run bench --${process.argv.slice(2).length ? ` ${process.argv.slice(2).join(' ')}` : ''}`,
    machine: {
      cpus: cpus().length,
      cpuModel: cpus()[0]?.model ?? '',
      memoryGiB: Math.round(totalmem() / 2 ** 30),
      node: process.version,
    },
    env,
    foreignRequests: [...session.foreign],
    cases,
  };
  console.log('');
  console.log(renderTables(report, median));
  mkdirSync(dirname(args.json), { recursive: true });
  writeFileSync(args.json, `${JSON.stringify(report, null, 2)}\n`);
  console.log(`\nJSON: ${args.json}`);
  if (session.foreign.length > 0) {
    console.error(`The page tried to reach outside its origin: ${session.foreign.join(', ')}`);
    process.exit(1);
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? (err.stack ?? err.message) : String(err));
  process.exit(1);
});
