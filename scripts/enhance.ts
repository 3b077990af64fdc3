/**
 * `npm run enhance -- <input> <output> [--model none|default|<pack name>|<pack dir>] [--scale 2|4]
 *   [--codec avc|vp9|av1] [--backend auto|webgpu|wasm] [--frames A:B] [--quality low|medium|high]
 *   [--tile N] [--temporal on|off] [--deinterlace auto|on|off|top|bottom]`
 *
 * Runs the built app's own worker pipeline in headless Chromium on a file and writes the result.
 * Exits non-zero with the error code and sentence on bad input, and fails if the page makes any
 * request outside its own origin.
 */
import { chromium, type Page } from 'playwright';
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { HarnessOutcome } from '../src/harness/main.ts';
import { CODEC_NAMES } from '../src/media/encoder-config.ts';
import { preferredBackend } from '../src/worker/protocol.ts';
import type { JobSettings, ModelChoice } from '../src/worker/settings.ts';
import { staleBuildReason } from './build-state.mjs';
import { startServer } from './serve.mjs';

const ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)));

interface Args {
  input: string;
  output: string;
  model: string;
  scale: 2 | 4 | null;
  codec: 'avc' | 'vp9' | 'av1';
  backend: 'auto' | 'webgpu' | 'wasm';
  frames: { start: number; end: number } | null;
  quality: 'low' | 'medium' | 'high';
  tile: number;
  /** null = the model's default. */
  temporal: boolean | null;
  /** null (auto) = when the video may be interlaced. */
  deinterlace: JobSettings['deinterlace'];
}

function fail(message: string): never {
  console.error(message);
  process.exit(2);
}

const USAGE =
  'Usage: npm run enhance -- <input> <output> [--model none|default|<pack name>|<pack dir>] [--scale 2|4] [--codec avc|vp9|av1] [--backend auto|webgpu|wasm] [--frames A:B (0-based, B exclusive)] [--quality low|medium|high] [--tile N] [--temporal on|off] [--deinterlace auto|on|off|top|bottom (the field that comes first)]';

export function parseArgs(argv: readonly string[]): Args {
  if (argv.includes('--help') || argv.includes('-h')) {
    console.log(USAGE);
    process.exit(0);
  }
  const positional: string[] = [];
  const flags = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg.startsWith('--')) {
      const [key, inline] = arg.slice(2).split('=', 2) as [string, string | undefined];
      const value = inline ?? argv[++i];
      if (value === undefined) fail(`--${key} needs a value.`);
      flags.set(key, value);
    } else positional.push(arg);
  }
  const [input, output] = positional;
  if (!input || !output) fail(USAGE);
  const known = [
    ...['model', 'scale', 'codec', 'backend', 'frames', 'quality', 'tile', 'temporal'],
    'deinterlace',
  ];
  for (const key of flags.keys()) if (!known.includes(key)) fail(`Unknown option --${key}.`);
  const pick = <T extends string>(key: string, allowed: readonly T[], fallback: T): T => {
    const v = flags.get(key) ?? fallback;
    if (!allowed.includes(v as T))
      fail(`--${key} must be one of ${allowed.join(', ')}, not "${v}".`);
    return v as T;
  };
  const scaleText = flags.get('scale');
  if (scaleText !== undefined && scaleText !== '2' && scaleText !== '4')
    fail('--scale must be 2 or 4.');
  let frames: Args['frames'] = null;
  const framesText = flags.get('frames');
  if (framesText !== undefined) {
    const m = /^(\d+):(\d+)$/.exec(framesText);
    if (!m || Number(m[2]) <= Number(m[1]))
      fail('--frames must be A:B with 0 <= A < B (frame indices, B exclusive).');
    frames = { start: Number(m[1]), end: Number(m[2]) };
  }
  const tile = Number(flags.get('tile') ?? 0);
  if (!Number.isInteger(tile) || tile < 0)
    fail('--tile must be a whole number of pixels (0 = automatic).');
  return {
    input: resolve(input),
    output: resolve(output),
    model: flags.get('model') ?? 'default',
    scale: scaleText === undefined ? null : (Number(scaleText) as 2 | 4),
    // WebM cannot hold H.264: a .webm output defaults to VP9
    codec: pick('codec', ['avc', 'vp9', 'av1'] as const, /\.webm$/i.test(output) ? 'vp9' : 'avc'),
    // auto: WebGPU on a real GPU, wasm on a software adapter or without WebGPU (as the app)
    backend: pick('backend', ['auto', 'webgpu', 'wasm'] as const, 'auto'),
    frames,
    quality: pick('quality', ['low', 'medium', 'high'] as const, 'high'),
    tile,
    temporal: flags.has('temporal')
      ? pick('temporal', ['on', 'off'] as const, 'on') === 'on'
      : null,
    deinterlace: (
      {
        auto: null,
        on: true,
        off: false,
        top: 'top-first',
        bottom: 'bottom-first',
      } as const
    )[pick('deinterlace', ['auto', 'on', 'off', 'top', 'bottom'] as const, 'auto')],
  };
}

interface PackIndexJson {
  packs: { name: string; scale: number; default: boolean; kind: string }[];
}

/** --model and --scale to a model choice: a folder is served as /user-pack/, a name is built in. */
function modelChoice(
  args: Args,
  index: PackIndexJson,
): { model: ModelChoice; mount: string | null } {
  if (args.model === 'none') return { model: { type: 'none' }, mount: null };
  const dir = resolve(args.model);
  if (existsSync(join(dir, 'manifest.json')))
    return { model: { type: 'url', url: '/user-pack/' }, mount: dir };
  if (args.model === 'default') {
    if (args.scale === null) return { model: { type: 'default' }, mount: null };
    const atScale = index.packs.find((p) => p.default && p.scale === args.scale);
    if (atScale) return { model: { type: 'builtin', name: atScale.name }, mount: null };
    const def = index.packs.find((p) => p.default);
    const family = def?.name.replace(/-x\d+$/, '');
    const same =
      index.packs.find((p) => p.name === `${family}-x${args.scale}`) ??
      index.packs.find((p) => p.scale === args.scale);
    if (!same) fail(`No built-in model upscales by ${args.scale}.`);
    return { model: { type: 'builtin', name: same.name }, mount: null };
  }
  const named = index.packs.find((p) => p.name === args.model);
  if (!named)
    fail(
      `--model "${args.model}" is neither a built-in model (${index.packs.map((p) => p.name).join(', ')}) nor a folder with a manifest.json.`,
    );
  return { model: { type: 'builtin', name: named.name }, mount: null };
}

function containerFor(output: string): JobSettings['container'] {
  const ext = extname(output).toLowerCase();
  if (ext === '.webm') return 'webm';
  if (ext === '.mkv') return 'mkv';
  if (ext === '.mp4' || ext === '.m4v' || ext === '.mov') return 'mp4';
  return null;
}

function ensureBuild(): void {
  const stale = staleBuildReason(ROOT);
  if (stale === null) return;
  console.log(`Building the app first (npm run build): ${stale}…`);
  const r = spawnSync(process.execPath, [join(ROOT, 'scripts', 'build.mjs')], { stdio: 'inherit' });
  if (r.status !== 0) fail('The build failed; see above.');
}

async function guardNetwork(page: Page, origin: string, foreign: string[]): Promise<void> {
  await page.context().route('**/*', async (route) => {
    const url = route.request().url();
    if (url.startsWith(origin) || url.startsWith('blob:') || url.startsWith('data:'))
      return route.continue();
    foreign.push(url);
    return route.abort();
  });
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  if (!existsSync(args.input) || !statSync(args.input).isFile())
    fail(`The input file ${args.input} does not exist.`);
  ensureBuild();
  const { readFileSync } = await import('node:fs');
  const index = JSON.parse(
    readFileSync(join(ROOT, 'dist', 'packs', 'index.json'), 'utf8'),
  ) as PackIndexJson;
  const { model, mount } = modelChoice(args, index);
  const server = await startServer({
    port: 0,
    quiet: true,
    ...(mount ? { mounts: { '/user-pack/': mount } } : {}),
  });
  const browser = await chromium.launch({
    executablePath: process.env['UPFRAME_CHROMIUM'] ?? '/usr/bin/chromium',
    args: [
      '--enable-unsafe-webgpu',
      '--no-sandbox',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
  const foreign: string[] = [];
  let exitCode = 0;
  try {
    const context = await browser.newContext({ acceptDownloads: true });
    const page = await context.newPage();
    await guardNetwork(page, new URL(server.url).origin, foreign);
    page.on('pageerror', (err) => console.error(`page error: ${err.message}`));
    await page.exposeFunction(
      'upframeEvent',
      (event: { kind: string; framesDone?: number; framesTotal?: number; fps?: number }) => {
        if (event.kind === 'job-progress' && event.framesTotal) {
          const pct = Math.floor((100 * (event.framesDone ?? 0)) / event.framesTotal);
          process.stdout.write(
            `\r${event.framesDone}/${event.framesTotal} frames (${pct}%), ${(event.fps ?? 0).toFixed(2)} fps   `,
          );
        }
      },
    );
    await page.goto(new URL('harness.html', server.url).href);
    await page.waitForSelector('body[data-ready="true"]');
    await page.setInputFiles('#input', args.input);
    let backend = args.backend;
    if (backend === 'auto') {
      const gpu = await page.evaluate(() => window.upframe!.probeGpu());
      backend = preferredBackend(gpu);
      const adapter = gpu.info
        ? `${[gpu.info.vendor, gpu.info.architecture].filter(Boolean).join(' ')}${gpu.info.isFallbackAdapter ? ', a software adapter' : ''}`
        : 'no WebGPU adapter';
      console.log(`Backend: ${backend} (auto; ${adapter})`);
    }
    // no --scale with the default model: 4x, or 2x where the browser cannot encode 4x (as the
    // page chooses when a clip is opened)
    let chosen = model;
    if (args.model === 'default' && args.scale === null) {
      const fit = await page.evaluate((codec) => window.upframe!.fitScale(codec), args.codec);
      if (fit?.scale === 2) {
        chosen = modelChoice({ ...args, scale: 2 }, index).model;
        const others = fit.takes4.map((c) => `--codec ${c}`).join(' or ');
        console.log(
          `Scale: 2x (at 4x this ${fit.width}x${fit.height} clip would be ` +
            `${fit.width * 4}x${fit.height * 4}, more than this browser's ${CODEC_NAMES[args.codec]} encoder takes` +
            (others ? `; with ${others} it can be 4x)` : ')'),
        );
      }
    }
    const settings: JobSettings = {
      model: chosen,
      backend,
      codec: args.codec,
      quality: args.quality,
      tileSize: args.tile,
      frameRange: args.frames,
      container: containerFor(args.output),
      temporal: args.temporal,
      deinterlace: args.deinterlace,
    };
    const download = page.waitForEvent('download', { timeout: 0 });
    // on failure no download comes and the browser closes under the wait: that is expected
    download.catch(() => undefined);
    const outcome: HarnessOutcome = await page.evaluate(
      ([s, name]) => window.upframe!.enhance(s, name),
      [settings, basename(args.output)] as const,
    );
    process.stdout.write('\n');
    if (!outcome.ok) {
      console.error(`${outcome.error.code}: ${outcome.error.message}`);
      exitCode = 1;
    } else {
      mkdirSync(dirname(args.output), { recursive: true });
      await (await download).saveAs(args.output);
      const t = outcome.result.transcode;
      console.log(
        `Wrote ${args.output}: ${t.frames} frames ${t.width}x${t.height} ${t.codec} in ${t.container}, ${t.audioPacketsCopied} audio packets copied, ${(t.bytes / 1e6).toFixed(2)} MB, ${outcome.result.seconds.toFixed(1)} s` +
          (outcome.result.enhancer
            ? ` (model ${outcome.result.enhancer} on ${outcome.result.backend})`
            : ' (no model: identity transcode)'),
      );
      for (const w of t.warnings) console.log(`warning: ${w}`);
    }
  } finally {
    await browser.close();
    await server.close();
  }
  if (foreign.length > 0) {
    console.error(`The page tried to reach outside its origin: ${foreign.join(', ')}`);
    exitCode = 1;
  }
  process.exit(exitCode);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((err: unknown) => {
    console.error(err instanceof Error ? err.message : String(err));
    process.exit(1);
  });
}
