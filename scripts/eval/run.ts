/**
 * `npm run eval -- [--json FILE] [--thick] [--frames N] [--scale 2|4]`
 *
 * Quality on clips with a known truth, rendered from real photographs (pan, zoom, a moving object;
 * scripts/eval/sequences.ts) at 480x288; the low-quality input is the truth blurred (Gaussian,
 * sigma 1.2), downscaled x4 or x2 (area), with noise (ffmpeg noise=alls=3) and H.264 at CRF 28
 * (ffmpeg, libx264). Both scales use the same truth frames; `--scale` runs one of them (default
 * both, x4 first). The models run in the built app in headless Chromium on ORT wasm
 * (src/bench/frames.ts: the app's decode and enhancer, without the export's re-encode); which ones
 * at each scale: scripts/eval/methods.ts. Bicubic is ffmpeg's swscale bicubic on the same decoded
 * frames. Reported per method: PSNR (RGB), SSIM (luma) and E*warp x 1e3 with the ground-truth flow
 * (scripts/eval/metrics.ts); the truth's own E*warp is the floor.
 *
 * JSON: the x4 results stay where they were before x2 existed (top-level `rows`, `degradation`,
 * `clips[].lq`), present when x4 ran; x2 has the same fields under `x2`. Every row has its `scale`.
 *
 * Photographs: scikit-image's sample data, Debian package python3-skimage
 * (/usr/lib/python3/dist-packages/skimage/data): coffee.png (CC0, Rachel Michetti), rocket.jpg
 * (SpaceX, public domain), astronaut.png (NASA, public domain), chelsea.png (CC0, Stefan van der
 * Walt). None of them is a training photo of models/lite (those come from lomiri-wallpapers).
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import type { BenchApi, Outcome } from '../../src/bench/api.ts';
import type { DecodedClip, EnvInfo } from '../../src/bench/types.ts';
import { ensureBuild, openBenchPage, ROOT } from '../bench/browser.ts';
import { adapterLine } from '../bench/report.ts';
import { EVAL_SCALES, evalMethods, type EvalScale } from './methods.ts';
import { eWarp, psnr, ssim, type RgbFrame } from './metrics.ts';
import { bicubic, degradation, degrade, framesOf, HR, lqSize, specs, type Size } from './clips.ts';
import { renderSequence, type Sequence } from './sequences.ts';

const EVAL_DIR = join(ROOT, '.cache', 'eval');
const TINY_DLORAL = join(ROOT, 'models', 'packs', 'tiny-dloral');

const USAGE =
  'Usage: npm run eval -- [--json FILE] [--thick] [--frames N] [--scale 2|4] [--only TEXT]';

function parseArgs(argv: readonly string[]): {
  json: string;
  thick: boolean;
  frames: number;
  scales: EvalScale[];
  only: string | null;
} {
  let only: string | null = null;
  let json = join(EVAL_DIR, 'latest.json');
  let thick = false;
  let frames = 8;
  let scales = [...EVAL_SCALES];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--json') json = resolve(argv[++i] ?? '');
    else if (arg === '--thick') thick = true;
    else if (arg === '--frames') frames = Number(argv[++i]);
    // a quick partial rerun (bicubic and the truth rows are always computed)
    else if (arg === '--only') only = argv[++i] ?? '';
    else if (arg === '--scale') {
      const scale = Number(argv[++i]);
      if (!EVAL_SCALES.includes(scale as EvalScale)) {
        console.error(`--scale must be one of ${EVAL_SCALES.join(', ')}. ${USAGE}`);
        process.exit(2);
      }
      scales = [scale as EvalScale];
    } else {
      console.error(`Unknown option ${arg}. ${USAGE}`);
      process.exit(2);
    }
  }
  if (!Number.isInteger(frames) || frames < 2) {
    console.error('--frames must be a whole number of at least 2.');
    process.exit(2);
  }
  return { json, thick, frames, scales, only };
}

/** Pack names in an index.json (upframe-pack-index-1), empty when the file is missing. */
function packNames(indexPath: string): Set<string> {
  if (!existsSync(indexPath)) return new Set();
  const index = JSON.parse(readFileSync(indexPath, 'utf8')) as { packs: { name: string }[] };
  return new Set(index.packs.map((p) => p.name));
}

interface Score {
  psnr: number;
  ssim: number;
  eWarpE3: number;
  msPerFrame: number | null;
}

function score(out: RgbFrame[], seq: Sequence, msPerFrame: number | null): Score {
  const n = out.length;
  let p = 0;
  let s = 0;
  for (let i = 0; i < n; i++) {
    p += psnr(out[i]!, seq.frames[i]!);
    s += ssim(out[i]!, seq.frames[i]!);
  }
  return { psnr: p / n, ssim: s / n, eWarpE3: 1e3 * eWarp(out, seq.flows), msPerFrame };
}

interface MethodRow {
  method: string;
  temporal: string;
  /** Upscaling factor: the input was the truth downscaled by this. */
  scale: EvalScale;
  scores: Record<string, Score>;
  note?: string;
}

interface ScaleSection {
  scale: EvalScale;
  lq: Size;
  degradation: string;
  rows: MethodRow[];
}

type Decode = (request: Parameters<BenchApi['decode']>[0]) => Promise<Outcome<DecodedClip>>;

const lqFile = (seq: Sequence, scale: EvalScale) => `${seq.spec.name}-x${scale}-lq.mp4`;
const clipUrl = (seq: Sequence, scale: EvalScale) => `/eval-media/${lqFile(seq, scale)}`;

async function evalScale(
  scale: EvalScale,
  sequences: readonly Sequence[],
  decode: Decode,
  options: Parameters<typeof evalMethods>[1],
  log: (t: string) => void,
  only: string | null,
): Promise<ScaleSection> {
  const rows: MethodRow[] = [];
  const truthRow: MethodRow = {
    method: 'ground truth (floor of E*warp)',
    temporal: '–',
    scale,
    scores: {},
  };
  const bicubicRow: MethodRow = {
    method: 'bicubic (ffmpeg swscale)',
    temporal: '–',
    scale,
    scores: {},
  };
  for (const seq of sequences) {
    truthRow.scores[seq.spec.name] = score(seq.frames, seq, null);
    const lq = await decode({
      clipUrl: clipUrl(seq, scale),
      pack: null,
      pipeline: 'sr',
      backend: 'wasm',
      tileSize: 0,
    });
    if (!lq.ok) throw new Error(`decoding ${seq.spec.name} x${scale}: ${lq.error.message}`);
    bicubicRow.scores[seq.spec.name] = score(bicubic(framesOf(lq.value)), seq, null);
  }
  rows.push(truthRow, bicubicRow);
  const { run, skipped } = evalMethods(scale, options);
  for (const s of skipped) log(`x${scale}: ${s.name}: ${s.note}`);
  for (const model of run.filter((m) => only === null || m.name.includes(only))) {
    const row: MethodRow = {
      method: `${model.name} (${model.backend})`,
      temporal: model.label,
      scale,
      scores: {},
    };
    for (const seq of sequences) {
      log(`x${scale}: ${model.name} on ${seq.spec.name}`);
      const out = await decode({
        clipUrl: clipUrl(seq, scale),
        pack: model.pack,
        pipeline: model.pipeline,
        backend: model.backend,
        tileSize: 0,
        temporal: model.temporal,
      });
      if (!out.ok) {
        row.note = `failed: ${out.error.code}: ${out.error.message}`;
        log(row.note);
        break;
      }
      row.scores[seq.spec.name] = score(framesOf(out.value), seq, out.value.msPerFrame);
    }
    rows.push(row);
  }
  for (const s of skipped)
    rows.push({ method: s.name, temporal: s.label, scale, scores: {}, note: s.note });
  return { scale, lq: lqSize(scale), degradation: degradation(scale), rows };
}

function table(rows: readonly MethodRow[], names: readonly string[]): string {
  const header = [
    'method',
    'temporal',
    ...names.flatMap((n) => [`${n} PSNR`, `${n} SSIM`, `${n} E*warp`]),
    'ms/frame',
  ];
  const lines = [`| ${header.join(' | ')} |`, `| ${header.map(() => '---').join(' | ')} |`];
  for (const row of rows) {
    if (Object.keys(row.scores).length === 0) {
      lines.push(
        `| ${row.method} | ${row.temporal} | ${row.note ?? ''} |${' |'.repeat(header.length - 3)}`,
      );
      continue;
    }
    const cells = names.flatMap((n) => {
      const s = row.scores[n];
      if (!s) return ['–', '–', '–'];
      return [
        Number.isFinite(s.psnr) ? s.psnr.toFixed(2) : '∞',
        s.ssim.toFixed(4),
        s.eWarpE3.toFixed(3),
      ];
    });
    const ms = Object.values(row.scores)
      .map((s) => s.msPerFrame)
      .filter((m): m is number => m !== null);
    const msText = ms.length ? (ms.reduce((a, b) => a + b, 0) / ms.length).toFixed(0) : '–';
    lines.push(
      `| ${row.method}${row.note ? ` (${row.note})` : ''} | ${row.temporal} | ${cells.join(' | ')} | ${msText} |`,
    );
  }
  return lines.join('\n');
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const started = Date.now();
  const log = (t: string) =>
    console.log(`[${((Date.now() - started) / 1000).toFixed(0).padStart(4)} s] ${t}`);
  mkdirSync(EVAL_DIR, { recursive: true });
  const sequences = specs(args.frames).map((spec) => {
    log(
      `rendering ${spec.name}: ${spec.description}, ${spec.frames} frames at ${HR.width}x${HR.height}`,
    );
    const seq = renderSequence(spec);
    for (const scale of args.scales) degrade(seq, scale, join(EVAL_DIR, lqFile(seq, scale)));
    return seq;
  });
  // the page loads the built copy of the pack index, so that decides what runs; the source copy
  // only tells a stale build from a pack that does not exist yet
  ensureBuild();
  const dloralManifest = join(TINY_DLORAL, 'manifest.json');
  const options = {
    thick: args.thick,
    builtinPacks: packNames(join(ROOT, 'dist', 'packs', 'index.json')),
    sourcePacks: packNames(join(ROOT, 'models', 'packs', 'index.json')),
    dloral: existsSync(dloralManifest)
      ? {
          url: '/tiny-dloral/',
          scale: (JSON.parse(readFileSync(dloralManifest, 'utf8')) as { scale: number }).scale,
        }
      : null,
  };
  const session = await openBenchPage({
    '/eval-media/': EVAL_DIR,
    ...(options.dloral ? { '/tiny-dloral/': TINY_DLORAL } : {}),
  });
  const sections: ScaleSection[] = [];
  let env: EnvInfo;
  try {
    env = await session.page.evaluate(() => window.upframeBench!.env());
    const decode: Decode = async (request) =>
      await session.page.evaluate((r) => window.upframeBench!.decode(r), request);
    for (const scale of args.scales) {
      const sectionStarted = Date.now();
      sections.push(await evalScale(scale, sequences, decode, options, log, args.only));
      log(`x${scale} done in ${((Date.now() - sectionStarted) / 1000).toFixed(0)} s`);
    }
  } finally {
    await session.close();
  }

  const names = sequences.map((s) => s.spec.name);
  const machine = `${cpus().length} x ${cpus()[0]?.model ?? '?'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`;
  console.log('');
  console.log(`${new Date().toISOString().slice(0, 10)}, ${machine}.`);
  console.log(adapterLine(env));
  console.log(
    `Clips: ${args.frames} frames, truth ${HR.width}x${HR.height}; PSNR (dB, RGB) and SSIM (luma) averaged over frames; E*warp x 1e3 (ground-truth flow, valid pixels).`,
  );
  for (const section of sections) {
    console.log('');
    console.log(
      `x${section.scale}: ${section.lq.width}x${section.lq.height} -> ${HR.width}x${HR.height} (${section.degradation})`,
    );
    console.log('');
    console.log(table(section.rows, names));
  }
  const x4 = sections.find((s) => s.scale === 4);
  const x2 = sections.find((s) => s.scale === 2);
  const report = {
    date: new Date().toISOString(),
    command: `npm run eval --${process.argv.slice(2).length ? ` ${process.argv.slice(2).join(' ')}` : ''}`,
    machine,
    env,
    scales: args.scales,
    clips: sequences.map((s) => ({
      name: s.spec.name,
      description: s.spec.description,
      frames: s.frames.length,
      hr: HR,
      ...(x4 ? { lq: x4.lq } : {}),
    })),
    ...(x4 ? { degradation: x4.degradation, rows: x4.rows } : {}),
    ...(x2 ? { x2: { lq: x2.lq, degradation: x2.degradation, rows: x2.rows } } : {}),
    seconds: Math.round((Date.now() - started) / 1000),
    foreignRequests: [...session.foreign],
  };
  mkdirSync(dirname(args.json), { recursive: true });
  writeFileSync(args.json, `${JSON.stringify(report, null, 2)}\n`);
  console.log(`\nTotal ${report.seconds} s. JSON: ${args.json}`);
  if (session.foreign.length > 0) {
    console.error(`The page tried to reach outside its origin: ${session.foreign.join(', ')}`);
    process.exit(1);
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? (err.stack ?? err.message) : String(err));
  process.exit(1);
});
