/** The JSON shape `npm run bench` writes, and the Markdown tables it prints (also for README). */
import type { SubtitleCaseResult } from './subtitles.ts';
import type { Outcome, PipelineRequest } from '../../src/bench/api.ts';
import type {
  CfrCaseResult,
  DeinterlaceCaseResult,
  EnvInfo,
  LongClipResult,
  PeerCaseResult,
  PipelineCaseResult,
} from '../../src/bench/types.ts';

export type BenchCase =
  | {
      name: string;
      kind: 'pipeline';
      note: string;
      request: PipelineRequest;
      outcome: Outcome<PipelineCaseResult>;
    }
  | { name: string; kind: 'cfr'; outcome: Outcome<CfrCaseResult> }
  | {
      name: string;
      kind: 'cfr-plan';
      size: number;
      topK: number;
      /** Why the case has only its memory plan. */
      note?: string;
      gpuBytes: number;
      denseSimilarityFp16Bytes: number;
      bands?: number;
      bandRows?: number;
      bandWork?: number;
    }
  | { name: string; kind: 'long'; outcome: Outcome<LongClipResult> }
  | { name: string; kind: 'deinterlace'; outcome: Outcome<DeinterlaceCaseResult> }
  | { name: string; kind: 'peer'; outcome: Outcome<PeerCaseResult> }
  | { name: string; kind: 'subtitles'; outcome: Outcome<SubtitleCaseResult> }
  | { name: string; kind: 'skipped'; note: string };

export interface BenchReport {
  date: string;
  command: string;
  machine: { cpus: number; cpuModel: string; memoryGiB: number; node: string };
  env: EnvInfo;
  foreignRequests: string[];
  cases: BenchCase[];
}

const MiB = 2 ** 20;

function fmt(value: number | null | undefined, digits = 1): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '–';
  return value.toFixed(digits);
}

function mib(bytes: number | null | undefined): string {
  return bytes === null || bytes === undefined ? '–' : (bytes / MiB).toFixed(1);
}

function table(header: string[], rows: string[][]): string {
  const line = (cells: string[]) => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

export function adapterLine(env: EnvInfo): string {
  const g = env.gpu;
  const adapter = g
    ? `${g.vendor || '?'} / ${g.architecture || '?'}${g.description ? ` (${g.description})` : ''}${g.isFallbackAdapter ? ', fallback adapter' : ''}`
    : `none (${env.gpuError ?? 'no WebGPU'})`;
  return `WebGPU adapter: ${adapter}. ${env.userAgent.match(/Chrom(e|ium)\/[\d.]+/)?.[0] ?? env.userAgent}, ${env.hardwareConcurrency} logical cores, crossOriginIsolated ${env.crossOriginIsolated}, heap figures from ${env.memorySource}.`;
}

export function renderTables(
  report: BenchReport,
  median: (v: readonly number[]) => number,
): string {
  const out: string[] = [];
  out.push(
    `${report.date.slice(0, 10)}, ${report.machine.cpus} x ${report.machine.cpuModel}, ${report.machine.memoryGiB} GiB, Node ${report.machine.node}.`,
  );
  out.push(adapterLine(report.env));
  out.push('');
  const rows: string[][] = [];
  const fpsOf = new Map<string, number>();
  const notes: string[] = [];
  for (const c of report.cases) {
    if (c.kind === 'skipped') {
      rows.push([c.name, c.note, '', '', '', '', '', '', '', '', '', '']);
      continue;
    }
    if (c.kind !== 'pipeline') continue;
    if (!c.outcome.ok) {
      rows.push([
        c.name,
        `failed: ${c.outcome.error.message}`,
        '',
        '',
        '',
        '',
        '',
        '',
        '',
        '',
        '',
        '',
      ]);
      continue;
    }
    const r = c.outcome.value;
    const runs = r.runs;
    const fps = median(runs.map((x) => x.fps));
    fpsOf.set(c.name, fps);
    const stage = (k: 'decode' | 'enhance' | 'encode') =>
      fmt(median(runs.map((x) => x.stageMs[k])));
    const heap = Math.max(...runs.map((x) => x.peakHeapBytes ?? 0));
    notes.push(`- ${c.name}: ${c.note}.`);
    rows.push([
      c.name,
      c.request.pipeline === 'naive'
        ? 'naive round trips'
        : r.enhancer
          ? (r.enhancer ?? '')
          : 'identity',
      r.backend ?? '–',
      `${r.inputWidth}x${r.inputHeight} → ${r.outputWidth}x${r.outputHeight}`,
      r.tiles ? `${r.tiles} x ${r.tileSize}px` : '–',
      `${runs[0]?.frames ?? 0} x ${runs.length}`,
      fmt(fps, fps < 1 ? 3 : 1),
      stage('decode'),
      stage('enhance'),
      stage('encode'),
      fmt(median(runs.map((x) => x.readbacks)), 2),
      mib(heap),
      r.backend === 'webgpu' ? mib(r.gpuBytes) : '0',
    ]);
  }
  // (none when `--only` names other cases)
  if (rows.length > 0) {
    out.push(
      '**Pipelines** (fps: median over runs; ms per frame per stage; one untimed warm-up frame first)',
    );
    out.push('');
    out.push(
      table(
        [
          'case',
          'pipeline',
          'backend',
          'input → output',
          'tiles',
          'frames x runs',
          'fps',
          'demux+decode ms',
          'enhance ms',
          'encode+mux ms',
          'readbacks/frame',
          'peak JS heap MiB',
          'GPU MiB (app)',
        ],
        rows,
      ),
    );
    out.push('');
    out.push(...notes);
  }
  const zero = fpsOf.get('sr-webgpu');
  const naive = fpsOf.get('naive-webgpu');
  if (zero && naive) out.push(`- zero-copy / naive WebGPU fps: **${(zero / naive).toFixed(2)}x**.`);

  const cfr = report.cases.filter((c) => c.kind === 'cfr' || c.kind === 'cfr-plan');
  if (cfr.length) {
    out.push('');
    out.push(
      '**CFR fusion kernel** (4 → 9 heads x 64; ms per tile from the first submit to the last onSubmittedWorkDone, median over runs; banded tiles submit and wait between bands)',
    );
    out.push('');
    const bandsOf = (bands: number | undefined, rows: number | undefined): string =>
      bands === undefined || rows === undefined ? '–' : `${bands} x ${rows} rows`;
    const gmac = (work: number | undefined): string =>
      work === undefined ? '–' : (work / 1e9).toFixed(2);
    const notRun: string[] = [];
    out.push(
      table(
        [
          'tile',
          'k',
          'ms per tile',
          'runs',
          'bands',
          'G mult-adds / band',
          'longest band ms',
          'first run ms (compile)',
          'GPU buffers MiB',
          'dense HW x HW fp16 MiB (released code)',
          'dense / ours',
        ],
        cfr.map((c) => {
          if (c.kind === 'cfr-plan') {
            if (c.note) notRun.push(`- ${c.name}: ${c.note}.`);
            return [
              `${c.size}x${c.size}`,
              c.topK === c.size * c.size ? `${c.topK} (= HW)` : String(c.topK),
              'not run',
              '',
              bandsOf(c.bands, c.bandRows),
              gmac(c.bandWork),
              '',
              '',
              mib(c.gpuBytes),
              mib(c.denseSimilarityFp16Bytes),
              `${(c.denseSimilarityFp16Bytes / c.gpuBytes).toFixed(0)}x`,
            ];
          }
          if (!c.outcome.ok)
            return [
              c.name,
              `failed: ${c.outcome.error.message}`,
              '',
              '',
              '',
              '',
              '',
              '',
              '',
              '',
              '',
            ];
          const v = c.outcome.value;
          return [
            `${v.width}x${v.height}`,
            v.topK === v.width * v.height ? `${v.topK} (= HW)` : String(v.topK),
            fmt(v.msPerTile, 0),
            String(v.runs),
            bandsOf(v.bands, v.bandRows),
            gmac(v.bandWork),
            fmt(v.maxBandMs, 0),
            `${fmt(v.compileMs, 0)}${v.warmupTile !== v.width ? ` (${v.warmupTile}x${v.warmupTile} tile)` : ''}`,
            mib(v.gpuBytes),
            mib(v.denseSimilarityFp16Bytes),
            `${(v.denseSimilarityFp16Bytes / v.gpuBytes).toFixed(1)}x`,
          ];
        }),
      ),
    );
    if (notRun.length) out.push('', ...notRun);
  }

  for (const c of report.cases) {
    if (c.kind === 'long') {
      out.push('');
      out.push(
        '**Long clip** (identity transcode into a render part, 160x96 with an AAC track, JS heap of the page)',
      );
      out.push('');
      if (!c.outcome.ok) {
        out.push(`failed: ${c.outcome.error.message}`);
        continue;
      }
      const pts = c.outcome.value.checkpoints;
      out.push(
        table(
          [
            'after frames',
            'peak JS heap MiB',
            'JS heap after GC MiB',
            'decoded frames open (peak)',
          ],
          pts.map((p) => [
            String(p.frames),
            mib(p.peakHeapBytes),
            mib(p.heapAfterGcBytes),
            `${p.openFrames} (${p.peakOpenFrames})`,
          ]),
        ),
      );
      const [a, b] = [pts[0], pts[pts.length - 1]];
      if (a && b && a.peakHeapBytes && b.peakHeapBytes) {
        // the heap's growth per frame after GC between the first and last checkpoint, what a
        // feature-length file adds (a two-hour film at 24 fps is 172800 frames); over fewer than
        // 10000 frames it is within the collector's noise
        const perFrame =
          a.heapAfterGcBytes && b.heapAfterGcBytes && b.frames - a.frames >= 10000
            ? (b.heapAfterGcBytes - a.heapAfterGcBytes) / (b.frames - a.frames)
            : null;
        const after =
          a.heapAfterGcBytes && b.heapAfterGcBytes
            ? `, after GC ${(b.heapAfterGcBytes / a.heapAfterGcBytes).toFixed(2)}`
            : '';
        const growth =
          perFrame === null
            ? ''
            : ` Growth after GC: ${fmt(perFrame, 0)} bytes per frame, ${fmt((perFrame * 172800) / 2 ** 20, 0)} MiB over a two-hour film at 24 fps.`;
        out.push('');
        out.push(
          `Ratio ${b.frames} / ${a.frames} frames: peak ${(b.peakHeapBytes / a.peakHeapBytes).toFixed(2)}${after} (${fmt(c.outcome.value.fps, 0)} fps).${growth}`,
        );
      }
      const j = c.outcome.value.join;
      out.push('');
      out.push(
        `Join (the part into the output file, after the last frame): ${j.frames} frames in ` +
          `${fmt(j.seconds, 1)} s (${fmt(j.frames / j.seconds, 0)} frames/s, part ` +
          `${mib(j.partBytes)} MiB), peak JS heap ${mib(j.peakHeapBytes)} MiB, after GC ` +
          `${mib(j.heapAfterGcBytes)} MiB.`,
      );
    }
    if (c.kind === 'subtitles') {
      out.push('');
      out.push(
        "**Subtitles** (a film's SRT lines read for the join: through the file's index, and by walking every cluster; Node, a disk-backed Blob)",
      );
      out.push('');
      if (!c.outcome.ok) {
        out.push(`failed: ${c.outcome.error.message}`);
        continue;
      }
      const d = c.outcome.value;
      out.push(
        table(
          ['clip', 'lines', 'through the index ms', 'walking the clusters ms', 'same lines'],
          [
            [
              `${d.minutes} min 720p, ${mib(d.fileBytes)} MiB, ${d.tracks} track${d.tracks > 1 ? 's' : ''}`,
              String(d.lines),
              fmt(d.indexMs, 0),
              fmt(d.scanMs, 0),
              d.same ? 'yes' : 'NO',
            ],
          ],
        ),
      );
    }
    if (c.kind === 'deinterlace') {
      out.push('');
      out.push(
        "**Deinterlacing** (frames whose fields differ, median per frame. CPU, I420: media/deinterlace.ts for a plain transcode, the copy out of the VideoFrame, three planes, the new VideoFrame. CPU, RGBA: the same rule in the wasm pipelines' frame input. GPU: the WGSL pass in the GPU pipelines' frame input, the frame's upload and the pass waited for, against the upload alone)",
      );
      out.push('');
      if (!c.outcome.ok) {
        out.push(`failed: ${c.outcome.error.message}`);
        continue;
      }
      const d = c.outcome.value;
      const rows = [
        ['CPU, I420 planes', fmt(d.msPerFrame, 1), fmt(1000 / d.msPerFrame, 1)],
        ['CPU, RGBA', fmt(d.rgbaMsPerFrame, 1), fmt(1000 / d.rgbaMsPerFrame, 1)],
      ];
      if (d.gpu) {
        const extra = d.gpu.deinterlacedUploadMs - d.gpu.uploadMs;
        rows.push([
          `GPU (${d.gpu.adapter}): upload ${fmt(d.gpu.uploadMs, 1)} ms, with the pass ${fmt(d.gpu.deinterlacedUploadMs, 1)} ms`,
          fmt(extra, 1),
          extra > 0 ? fmt(1000 / extra, 1) : '-',
        ]);
      }
      out.push(table([`${d.width}x${d.height}, ${d.frames} frames`, 'ms per frame', 'fps'], rows));
    }
    if (c.kind === 'peer') {
      out.push('');
      out.push(
        '**Peer: UpscalerJS 1.0 (TF.js 4.11), same esrgan-medium x4 weights, same frames** (whole frame in one piece on both sides; per-frame time = pixels in to pixels out)',
      );
      out.push('');
      if (!c.outcome.ok) {
        out.push(`failed: ${c.outcome.error.message}`);
        continue;
      }
      const p = c.outcome.value;
      out.push(
        table(
          [
            'size',
            'frames',
            'ours',
            'fps ours',
            'UpscalerJS',
            'fps UpscalerJS',
            'ours / peer',
            'max pixel diff',
            'samples differing',
            'mean abs diff',
          ],
          [
            [
              `${p.width}x${p.height} → ${p.width * 4}x${p.height * 4}`,
              String(p.frames),
              `ORT ${p.oursBackend}`,
              fmt(p.oursFps, 3),
              `TF.js ${p.peerBackend}${p.peerBackend === 'wasm' ? ' (1 thread, SIMD)' : ''}`,
              fmt(p.peerFps, 3),
              `${(p.oursFps / p.peerFps).toFixed(2)}x`,
              String(p.maxPixelDiff),
              `${(100 * p.differingFraction).toFixed(2)} %`,
              fmt(p.meanAbsDiff, 4),
            ],
          ],
        ),
      );
    }
  }
  return out.join('\n');
}
