/**
 * `npm run enhance -- <input> <output> [--model none|default|<pack name>|<pack dir>] [--scale 2|4]
 *   [--codec avc|vp9|av1] [--backend auto|webgpu|wasm] [--frames A:B] [--quality low|medium|high]
 *   [--tile N] [--temporal on|off] [--deinterlace auto|on|off|top|bottom] [--overwrite]`
 *
 * Runs the built app's own worker pipeline in headless Chromium on a file and writes the result.
 * Exits non-zero with the error code and sentence on bad input (EXIT_CODES), and fails if the
 * page makes any request outside its own origin.
 */
import type { Page } from 'playwright';
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  realpathSync,
  statSync,
  unlinkSync,
} from 'node:fs';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { HarnessOutcome } from '../src/harness/main.ts';
import { CODEC_NAMES } from '../src/media/encoder-config.ts';
import { formatDuration } from '../src/shared/format.ts';
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
  /** An existing output may be replaced (otherwise it is refused before any work). */
  overwrite: boolean;
}

/** What the exit status means, for scripts (also in --help). */
export const EXIT_CODES = {
  done: 0,
  /** The render failed: its code and sentence are on stderr, nothing was written. */
  failed: 1,
  /** The options or the files named were refused before any work. */
  refused: 2,
  /** Written, but decoding stopped at a damaged frame: the output ends there (a warning). */
  endedEarly: 3,
  canceled: 130,
} as const;

/**
 * "2 audio tracks copied (158 packets)", or "96 audio packets copied" for one track or none;
 * then the subtitle tracks kept, if any ("2 subtitle tracks kept").
 */
function audioCopied(t: {
  audioPacketsCopied: number;
  audioTracks: number;
  subtitleTracks: number;
}): string {
  const audio =
    t.audioTracks > 1
      ? `${t.audioTracks} audio tracks copied (${t.audioPacketsCopied} packets)`
      : `${t.audioPacketsCopied} audio packets copied`;
  const s = t.subtitleTracks;
  return s === 0
    ? audio
    : `${audio}, ${s === 1 ? 'a subtitle track' : `${s} subtitle tracks`} kept`;
}

function fail(message: string): never {
  console.error(message);
  process.exit(EXIT_CODES.refused);
}

/** Options that take no value. */
const SWITCHES = ['overwrite'];

/** The file types the output can be written as (the extension picks the container). */
const OUTPUT_TYPES = ['.mp4', '.m4v', '.mov', '.mkv', '.webm'];

const USAGE = 'Usage: npm run enhance -- <input> <output> [options] (--help lists them)';

const HELP = `Usage: npm run enhance -- <input> <output> [options]

Enhances <input> (MP4, MOV, M4V, WebM, MKV, AVI, MPEG-TS or MPEG-PS: .mpg, .vob) into <output> with the app's own
pipeline, in headless Chromium on this computer. The output's extension (.mp4, .m4v, .mov, .mkv
or .webm) picks its file type. The source's audio is copied as it is, where the file type
holds it.

Options (the default first):
  --model default|none|<pack name>|<pack folder>
                         default: the recommended model at the scale; none: no model
                         (deinterlacing and re-encoding only). Built-in packs: PACKS
  --scale 4|2            4, or 2 where the browser cannot encode the clip at 4x
  --codec avc|vp9|av1    avc (H.264); vp9 for a .webm output
  --quality high|medium|low
  --backend auto|webgpu|wasm
                         auto: WebGPU on a hardware GPU, else the CPU (wasm)
  --frames A:B           frames A to B-1 (0-based); default: all of them
  --tile N               input pixels per tile side; 0 (automatic) by default
  --temporal on|off      temporal fusion; default: as the model has it
  --deinterlace auto|on|off|top|bottom
                         auto: the pictures the stream marks as fields; top or bottom: every
                         frame, keeping that field (the one that comes first)
  --overwrite            replace <output> if it exists (otherwise that is refused)

Exit status: 0 done; 1 the render failed (nothing written); 2 refused before any work;
3 written, but decoding stopped at a damaged frame, where the enhanced file ends (a file that
is itself cut short is rendered to its end: 0, with a warning); 130 canceled (Ctrl-C).

Examples:
  npm run enhance -- holiday.mp4 holiday.x4.mp4
  npm run enhance -- tape.ts tape.x2.mkv --scale 2 --deinterlace bottom
  npm run enhance -- clip.mov part.mp4 --frames 0:250 --model none`;

function helpText(): string {
  try {
    const index = JSON.parse(
      readFileSync(join(ROOT, 'dist', 'packs', 'index.json'), 'utf8'),
    ) as PackIndexJson;
    return HELP.replace('PACKS', index.packs.map((p) => p.name).join(', '));
  } catch {
    return HELP.replace('PACKS', '(listed once the app is built)');
  }
}

export function parseArgs(argv: readonly string[]): Args {
  if (argv.includes('--help') || argv.includes('-h')) {
    console.log(helpText());
    process.exit(0);
  }
  const positional: string[] = [];
  const flags = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg.startsWith('--')) {
      const [key, inline] = arg.slice(2).split('=', 2) as [string, string | undefined];
      if (SWITCHES.includes(key)) {
        if (inline !== undefined) fail(`--${key} takes no value.`);
        flags.set(key, '');
        continue;
      }
      const value = inline ?? argv[++i];
      if (value === undefined) fail(`--${key} needs a value.`);
      flags.set(key, value);
    } else if (/^-[^-\d]/.test(arg)) {
      // a short option (-s 2) would otherwise be taken for a file name, or ignored
      fail(`Unknown option ${arg}: the options are written in full (--scale, --model, ...).`);
    } else positional.push(arg);
  }
  const [input, output, ...extra] = positional;
  if (!input) fail(`Which clip? ${USAGE}`);
  if (!output) fail(`Where should the enhanced clip go? ${USAGE}`);
  if (extra.length > 0) fail(`Unexpected argument "${extra[0]}": give one input and one output.`);
  if (!OUTPUT_TYPES.includes(extname(output).toLowerCase())) {
    fail(
      `The output "${basename(output)}" must end in ${OUTPUT_TYPES.slice(0, -1).join(', ')} ` +
        `or ${OUTPUT_TYPES.at(-1)} ` +
        '(the file type it is written as).',
    );
  }
  const known = [
    ...['model', 'scale', 'codec', 'backend', 'frames', 'quality', 'tile', 'temporal'],
    'deinterlace',
    ...SWITCHES,
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
    overwrite: flags.has('overwrite'),
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
  // a --scale the model cannot make is refused, not silently ignored
  const atScale = (title: string, scale: unknown): void => {
    if (args.scale !== null && scale !== args.scale) {
      fail(
        `--scale ${args.scale} does not fit ${title}, which upscales by ${String(scale)}: ` +
          'leave --scale out, or choose a model of that scale.',
      );
    }
  };
  if (args.model === 'none') {
    if (args.scale !== null) fail('--scale needs a model: with --model none the size is kept.');
    return { model: { type: 'none' }, mount: null };
  }
  const dir = resolve(args.model);
  if (existsSync(join(dir, 'manifest.json'))) {
    let scale: unknown = null;
    try {
      scale = (JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as { scale?: unknown })
        .scale;
    } catch {
      // an unreadable manifest is the page's to refuse, with its own code
    }
    if (scale !== null) atScale(`the pack in ${dir}`, scale);
    return { model: { type: 'url', url: '/user-pack/' }, mount: dir };
  }
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
  atScale(`--model ${named.name}`, named.scale);
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

/**
 * Refuses, before any work, an output that would replace the input or cannot be written (a
 * folder that cannot be made, a place that takes no files): found after an hour's render, the
 * work would be lost.
 */
function checkOutput(input: string, output: string, overwrite: boolean): void {
  if (existsSync(output)) {
    if (statSync(output).isDirectory()) fail(`The output ${output} is a folder, not a file name.`);
    if (realpathSync(output) === realpathSync(input)) {
      fail('The output is the input file: give the enhanced clip another name.');
    }
    // an earlier render (maybe hours of work) is not replaced by a repeated command line
    if (!overwrite) {
      fail(
        `The output ${output} already exists: give another name, or add --overwrite to replace it.`,
      );
    }
  }
  const dir = dirname(output);
  if (existsSync(dir) && !statSync(dir).isDirectory()) {
    fail(`The output's folder ${dir} is a file, not a folder.`);
  }
  try {
    mkdirSync(dir, { recursive: true });
  } catch (err) {
    fail(`The output folder ${dir} cannot be made (${(err as Error).message}).`);
  }
  // a file made and removed at once: the place takes files
  const probe = join(dir, `.${basename(output)}.${process.pid}.upframe-check`);
  try {
    closeSync(openSync(probe, 'wx'));
    unlinkSync(probe);
  } catch (err) {
    fail(`The output ${output} cannot be written (${(err as Error).message}).`);
  }
}

/** Progress as a person reads it: one line redrawn in a terminal, a line per 10 % in a log. */
function progressPrinter(): (done: number, total: number, fps: number, writing?: number) => void {
  const tty = process.stdout.isTTY === true;
  let lastTenth = -1;
  let wroteWriting = false;
  return (done, total, fps, writing) => {
    const pct = Math.floor((100 * done) / total);
    const left =
      fps > 0 && done < total ? `, about ${formatDuration((total - done) / fps)} left` : '';
    if (writing !== undefined) {
      const text = `${done}/${total} frames (100%): writing the file (${Math.floor(writing * 100)} %)`;
      if (tty) process.stdout.write(`\r${text}   `);
      else if (!wroteWriting) console.log(`${done}/${total} frames (100%): writing the file`);
      wroteWriting = true;
      return;
    }
    const text = `${done}/${total} frames (${pct}%), ${fps.toFixed(2)} fps${left}`;
    if (tty) process.stdout.write(`\r${text}   `);
    else if (Math.floor(pct / 10) > lastTenth) {
      lastTenth = Math.floor(pct / 10);
      console.log(text);
    }
  };
}

/** Ctrl-C was pressed: the run is being canceled. */
let interrupted = false;

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  if (existsSync(args.input) && statSync(args.input).isDirectory())
    fail(`The input ${args.input} is a folder: give a video file.`);
  if (!existsSync(args.input)) fail(`The input file ${args.input} does not exist.`);
  checkOutput(args.input, args.output, args.overwrite);
  ensureBuild();
  const index = JSON.parse(
    readFileSync(join(ROOT, 'dist', 'packs', 'index.json'), 'utf8'),
  ) as PackIndexJson;
  const { model, mount } = modelChoice(args, index);
  const server = await startServer({
    port: 0,
    quiet: true,
    ...(mount ? { mounts: { '/user-pack/': mount } } : {}),
  });
  // loaded only now: it takes about a second, which a refused command line should not wait for
  const { chromium } = await import('playwright');
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
  let exitCode: number = EXIT_CODES.done;
  // Ctrl-C: the line in progress is ended, the browser closed (it keeps nothing: a half-made
  // output never reaches the output path), and the exit code says so
  process.once('SIGINT', () => {
    interrupted = true;
    process.stdout.write(`${process.stdout.isTTY ? '\n' : ''}Canceled: nothing was written.\n`);
    void browser.close().finally(() => process.exit(EXIT_CODES.canceled));
  });
  const progress = progressPrinter();
  try {
    const context = await browser.newContext({ acceptDownloads: true });
    const page = await context.newPage();
    await guardNetwork(page, new URL(server.url).origin, foreign);
    page.on('pageerror', (err) => console.error(`page error: ${err.message}`));
    await page.exposeFunction(
      'upframeEvent',
      (event: {
        kind: string;
        framesDone?: number;
        framesTotal?: number;
        fps?: number;
        writing?: number;
      }) => {
        if (event.kind === 'job-progress' && event.framesTotal) {
          progress(event.framesDone ?? 0, event.framesTotal, event.fps ?? 0, event.writing);
        }
      },
    );
    await page.goto(new URL('harness.html', server.url).href);
    await page.waitForSelector('body[data-ready="true"]');
    await page.setInputFiles('#input', args.input);
    let backend = args.backend;
    if (backend === 'auto' && args.model === 'none') backend = 'wasm'; // no model: no backend
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
      // (the clip is read here first: a file that is no video fails here, in words)
      const fitted = await page.evaluate(async (codec) => {
        try {
          return { fit: await window.upframe!.fitScale(codec) };
        } catch (err) {
          const e = err as { code?: string; message?: string };
          return { error: { code: e.code ?? 'INTERNAL', message: e.message ?? String(err) } };
        }
      }, args.codec);
      if (fitted.error) {
        console.error(`${fitted.error.code}: ${fitted.error.message}`);
        process.exitCode = EXIT_CODES.failed;
        return; // (the browser and the server close below)
      }
      const fit = fitted.fit;
      if (fit && fit.scale === null) {
        // neither 4x nor 2x: said now, not after the model is loaded
        console.error(
          `RESOLUTION_TOO_LARGE: At 2x this ${fit.width}x${fit.height} clip would be ` +
            `${fit.width * 2}x${fit.height * 2}, more than this browser's ${CODEC_NAMES[args.codec]} ` +
            'encoder takes: try --codec vp9 or --codec av1 (a .webm or .mkv file), or --model none.',
        );
        process.exitCode = EXIT_CODES.failed;
        return; // (the browser and the server close below)
      }
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
    if (process.stdout.isTTY) process.stdout.write('\n'); // ends the progress line
    if (!outcome.ok) {
      console.error(`${outcome.error.code}: ${outcome.error.message}`);
      exitCode = EXIT_CODES.failed;
    } else {
      mkdirSync(dirname(args.output), { recursive: true });
      await (await download).saveAs(args.output).catch((err: unknown) => {
        fail(
          `The enhanced clip could not be written to ${args.output} (${(err as Error).message}).`,
        );
      });
      const t = outcome.result.transcode;
      console.log(
        `Wrote ${args.output}: ${t.frames} frames ${t.width}x${t.height} ${t.codec} in ${t.container}, ${audioCopied(t)}, ${(t.bytes / 1e6).toFixed(2)} MB, ${outcome.result.seconds.toFixed(1)} s` +
          (outcome.result.enhancer
            ? ` (model ${outcome.result.enhancer} on ${outcome.result.backend})`
            : ' (no model: identity transcode)'),
      );
      for (const w of t.warnings) console.log(`warning: ${w}`);
      if (t.endedEarly) exitCode = EXIT_CODES.endedEarly;
      const asked = args.frames ? args.frames.end - args.frames.start : 0;
      if (args.frames && t.frames < asked && t.warnings.length === 0) {
        console.log(
          `note: --frames ${args.frames.start}:${args.frames.end} asks for ${asked} frames; ` +
            `the clip ends after ${t.frames} of them.`,
        );
      }
    }
  } finally {
    await browser.close();
    await server.close();
  }
  if (foreign.length > 0) {
    console.error(`The page tried to reach outside its origin: ${foreign.join(', ')}`);
    exitCode = EXIT_CODES.failed;
  }
  process.exit(exitCode);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((err: unknown) => {
    // after Ctrl-C the page's calls fail as the browser closes: that is the cancel, said already
    if (interrupted) process.exit(EXIT_CODES.canceled);
    console.error(err instanceof Error ? err.message : String(err));
    process.exit(EXIT_CODES.failed);
  });
}
