/**
 * `npx tsx scripts/eval/ensemble.ts [--scale 4|2] [--json FILE]`
 *
 * Geometric self-ensemble of Upframe-lite on the eval's clips: is the model's quality goal within
 * reach at inference time, for eight times the work? Each low-quality clip of `npm run eval`
 * (same truth, same degradation: clips.ts) is mirrored and transposed by ffmpeg in the YUV
 * planes (exact for 4:2:0 with even sizes) and stored as lossless VP9; the built app renders each
 * of the eight with the pack and its learned CFR (wasm, as the eval), the outputs are mapped back
 * (d4.ts) and averaged in floating point, then rounded. Printed per clip: PSNR and E*warp of the
 * plain render, of each transform alone, and of the mean of the first 2, 4 and 8 transforms
 * (identity and left-right mirror; plus the top-bottom mirrors; plus the transposes), with the
 * gain over ffmpeg's bicubic. JSON: .cache/eval/ensemble-x4.json (or --json).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { openBenchPage, ROOT } from '../bench/browser.ts';
import { bicubic, degrade, framesOf, HR, specs } from './clips.ts';
import { D4_ALL, d4Filters, d4Name, d4Undo } from './d4.ts';
import type { EvalScale } from './methods.ts';
import { eWarp, psnr, type RgbFrame } from './metrics.ts';
import { renderSequence, type Sequence } from './sequences.ts';

const DIR = join(ROOT, '.cache', 'eval', 'ensemble');
const FRAMES = 8;
const USAGE = 'Usage: npx tsx scripts/eval/ensemble.ts [--scale 4|2] [--json FILE]';

function parseArgs(argv: readonly string[]): { scale: EvalScale; json: string } {
  let scale: EvalScale = 4;
  let json: string | null = null;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--json') json = resolve(argv[++i] ?? '');
    else if (arg === '--scale' && ['2', '4'].includes(argv[i + 1] ?? ''))
      scale = Number(argv[++i]) as EvalScale;
    else {
      console.error(`Unknown option ${arg}. ${USAGE}`);
      process.exit(2);
    }
  }
  return { scale, json: json ?? join(ROOT, '.cache', 'eval', `ensemble-x${scale}.json`) };
}

/** The eight transformed copies of a low-quality clip, as lossless VP9 in WebM. */
function transformedClips(lq: string, name: string): string[] {
  return D4_ALL.map((t) => {
    const file = `${name}-${d4Name(t)}.webm`;
    execFileSync('ffmpeg', [
      ...['-v', 'error', '-y', '-i', lq, '-vf', [...d4Filters(t), 'format=yuv420p'].join(',')],
      ...['-c:v', 'libvpx-vp9', '-lossless', '1', '-threads', '1'],
      ...['-colorspace', 'bt709', '-color_primaries', 'bt709', '-color_trc', 'bt709'],
      ...['-color_range', 'tv', join(DIR, file)],
    ]);
    return file;
  });
}

interface Score {
  psnr: number;
  eWarpE3: number;
}

function score(out: readonly RgbFrame[], seq: Sequence): Score {
  const p = out.reduce((sum, f, i) => sum + psnr(f, seq.frames[i]!), 0) / out.length;
  return { psnr: p, eWarpE3: 1e3 * eWarp(out, seq.flows) };
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  mkdirSync(DIR, { recursive: true });
  const sequences = specs(FRAMES).map((spec) => renderSequence(spec));
  const clips = sequences.map((seq) => {
    const lq = join(DIR, `${seq.spec.name}-x${args.scale}-lq.mp4`);
    degrade(seq, args.scale, lq);
    return { seq, lq, files: transformedClips(lq, `${seq.spec.name}-x${args.scale}`) };
  });
  const pack = { type: 'builtin' as const, name: `upframe-lite-x${args.scale}` };
  const session = await openBenchPage({ '/ensemble/': DIR });
  const result: Record<string, Record<string, Score>> = {};
  try {
    const render = async (file: string, withPack: boolean): Promise<RgbFrame[]> => {
      const r = await session.page.evaluate((req) => window.upframeBench!.decode(req), {
        clipUrl: `/ensemble/${file}`,
        pack: withPack ? pack : null,
        pipeline: withPack ? ('app' as const) : ('sr' as const),
        backend: 'wasm' as const,
        tileSize: 0,
        temporal: withPack ? true : null,
      });
      if (!r.ok) throw new Error(`${file}: ${r.error.code}: ${r.error.message}`);
      return framesOf(r.value);
    };
    for (const { seq, lq, files } of clips) {
      const name = seq.spec.name;
      const rows: Record<string, Score> = {};
      rows['bicubic'] = score(bicubic(await render(lq.slice(DIR.length + 1), false)), seq);
      rows['plain render'] = score(await render(lq.slice(DIR.length + 1), true), seq);
      const sums = seq.frames.map((f) => new Float64Array(f.data.length));
      for (let k = 0; k < D4_ALL.length; k++) {
        const t = D4_ALL[k]!;
        const out = (await render(files[k]!, true)).map((f) => d4Undo(f, t));
        rows[d4Name(t)] = score(out, seq);
        out.forEach((f, i) => f.data.forEach((v, j) => (sums[i]![j]! += v)));
        if (k === 1 || k === 3 || k === 7) {
          const mean = sums.map((s) => ({
            ...HR,
            data: Uint8Array.from(s, (v) => Math.round(v / (k + 1))),
          }));
          rows[`mean of ${k + 1}`] = score(mean, seq);
        }
      }
      result[name] = rows;
      const base = rows['bicubic'].psnr;
      console.log(`\n${name} (x${args.scale}):`);
      for (const [row, s] of Object.entries(rows))
        console.log(
          `  ${row.padEnd(13)} PSNR ${s.psnr.toFixed(3)} (${(s.psnr - base >= 0 ? '+' : '') + (s.psnr - base).toFixed(3)} over bicubic)  E*warp ${s.eWarpE3.toFixed(3)}`,
        );
    }
  } finally {
    await session.close();
  }
  mkdirSync(dirname(args.json), { recursive: true });
  writeFileSync(
    args.json,
    `${JSON.stringify({ date: new Date().toISOString(), scale: args.scale, frames: FRAMES, clips: result }, null, 1)}\n`,
  );
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
