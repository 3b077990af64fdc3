/**
 * CFR fusion at DLoRAL's latent tile (96 x 96, 4 -> 9 heads x 64) on the page's shared device, with
 * seeded random weights and latents: the kernel's cost does not depend on the values, only on the
 * sizes and on k. Timed from the first submit to the last onSubmittedWorkDone of a tile.
 *
 * Banded cases run the attention pass in the bands cfrBandRows picks, one submit and one
 * onSubmittedWorkDone per band, so no dispatch runs long (at 96 x 96 one dispatch for the whole
 * tile took minutes on SwiftShader and Chromium killed the page). Their warm-up (pipeline
 * compilation) runs on an 8 x 8 tile, since a full 96 x 96 run costs minutes on a software adapter.
 */
import { sharedGpu } from '../gpu/device.ts';
import {
  cfrMemoryPlan,
  prepareCfr,
  uploadCfrWeights,
  type PreparedCfr,
} from '../kernels/cfr-attention/cfr-attention.ts';
import { randomCfrWeights } from '../kernels/cfr-attention/cfr-weights.ts';
import { randomFloats } from '../shared/random.ts';
import type { CfrCaseResult } from './types.ts';

const SHAPE = { inChannels: 4, heads: 9, headDim: 64 };
const WARMUP_TILE = 8;

/** Buffer bytes of a prepared CFR at `size` vs the released code's dense similarity matrix. */
export function cfrPlanBytes(size: number, topK: number | 'all') {
  const plan = cfrMemoryPlan({ width: size, height: size, ...SHAPE, topK, bandRows: 'auto' });
  return {
    gpuBytes: plan.totalBufferBytes,
    denseSimilarityFp16Bytes: plan.denseSimilarityFp16Bytes,
    bands: plan.bands,
    bandRows: plan.bandRows,
    bandWork: plan.bandWork,
  };
}

/** One tile, band by band, waiting for each; returns the ms of every band. */
async function runTile(device: GPUDevice, cfr: PreparedCfr, log: string | null): Promise<number[]> {
  const times: number[] = [];
  for (let band = 0; band < cfr.bands; band++) {
    const started = performance.now();
    const encoder = device.createCommandEncoder();
    cfr.encodeBand(encoder, band);
    device.queue.submit([encoder.finish()]);
    await device.queue.onSubmittedWorkDone();
    times.push(performance.now() - started);
    if (log !== null) {
      // the bench driver prints these: a software-adapter tile takes minutes
      console.info(`[bench] ${log}: band ${band + 1}/${cfr.bands} ${times[band]!.toFixed(0)} ms`);
    }
  }
  return times;
}

export async function cfrCase(
  size: number,
  topK: number | 'all',
  runs: number,
  banded: boolean,
): Promise<CfrCaseResult> {
  const { device } = await sharedGpu(navigator.gpu);
  const temperature = 3000;
  const hw = size * size;
  const latent = (seed: number): GPUBuffer => {
    const data = randomFloats(SHAPE.inChannels * hw, seed, -1, 1);
    const buffer = device.createBuffer({
      size: data.byteLength,
      usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST,
    });
    device.queue.writeBuffer(buffer, 0, data);
    return buffer;
  };
  const current = latent(1);
  const reference = latent(2);
  const weights = uploadCfrWeights(device, randomCfrWeights({ ...SHAPE, temperature }, 3));
  const output = device.createBuffer({
    size: SHAPE.inChannels * hw * 4,
    usage: GPUBufferUsage.STORAGE,
  });
  const kernelConfig = { ...SHAPE, topK };
  const bandRows = banded ? ('auto' as const) : undefined;
  const tile = { width: size, height: size, temperature };
  const cfr = prepareCfr(device, { current, reference, weights, output }, kernelConfig, tile, {
    bandRows,
  });
  const label = `cfr ${size}x${size} k=${topK}`;
  try {
    let compileMs: number;
    if (banded) {
      cfr.update({ ...tile, width: WARMUP_TILE, height: WARMUP_TILE });
      compileMs = (await runTile(device, cfr, null)).reduce((a, b) => a + b, 0);
      cfr.update(tile);
    } else {
      compileMs = (await runTile(device, cfr, null)).reduce((a, b) => a + b, 0);
    }
    const tiles: number[][] = [];
    for (let i = 0; i < runs; i++) tiles.push(await runTile(device, cfr, banded ? label : null));
    const times = tiles.map((bands) => bands.reduce((a, b) => a + b, 0));
    const plan = cfrMemoryPlan({ width: size, height: size, ...kernelConfig, bandRows });
    const sorted = [...times].sort((a, b) => a - b);
    return {
      width: size,
      height: size,
      topK: topK === 'all' ? hw : topK,
      runs,
      msPerTile: sorted[Math.floor(sorted.length / 2)] ?? compileMs,
      msPerTileRuns: times,
      compileMs,
      warmupTile: banded ? WARMUP_TILE : size,
      bands: cfr.bands,
      bandRows: cfr.bandRows,
      bandWork: plan.bandWork,
      maxBandMs: Math.max(...tiles.flat()),
      gpuBytes: plan.totalBufferBytes,
      denseSimilarityFp16Bytes: plan.denseSimilarityFp16Bytes,
    };
  } finally {
    cfr.destroy();
    for (const b of [current, reference, weights, output]) b.destroy();
  }
}
