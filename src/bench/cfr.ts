/**
 * CFR fusion at DLoRAL's latent tile (96 x 96, 4 -> 9 heads x 64) on the page's shared device, with
 * seeded random weights and latents: the kernel's cost does not depend on the values, only on the
 * sizes and on k. Timed from submit to onSubmittedWorkDone, one tile per submit.
 */
import { sharedGpu } from '../gpu/device.ts';
import {
  cfrMemoryPlan,
  prepareCfr,
  uploadCfrWeights,
} from '../kernels/cfr-attention/cfr-attention.ts';
import { randomCfrWeights } from '../kernels/cfr-attention/cfr-weights.ts';
import { randomFloats } from '../shared/random.ts';
import type { CfrCaseResult } from './types.ts';

/** Buffer bytes of a prepared CFR at `size` vs the released code's dense similarity matrix. */
export function cfrPlanBytes(size: number, topK: number | 'all') {
  const plan = cfrMemoryPlan({
    width: size,
    height: size,
    inChannels: 4,
    heads: 9,
    headDim: 64,
    topK,
  });
  return {
    gpuBytes: plan.totalBufferBytes,
    denseSimilarityFp16Bytes: plan.denseSimilarityFp16Bytes,
  };
}

export async function cfrCase(
  size: number,
  topK: number | 'all',
  runs: number,
): Promise<CfrCaseResult> {
  const { device } = await sharedGpu(navigator.gpu);
  const config = { inChannels: 4, heads: 9, headDim: 64, temperature: 3000 };
  const hw = size * size;
  const latent = (seed: number): GPUBuffer => {
    const data = randomFloats(config.inChannels * hw, seed, -1, 1);
    const buffer = device.createBuffer({
      size: data.byteLength,
      usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST,
    });
    device.queue.writeBuffer(buffer, 0, data);
    return buffer;
  };
  const current = latent(1);
  const reference = latent(2);
  const weights = uploadCfrWeights(device, randomCfrWeights(config, 3));
  const output = device.createBuffer({
    size: config.inChannels * hw * 4,
    usage: GPUBufferUsage.STORAGE,
  });
  const kernelConfig = { inChannels: 4, heads: 9, headDim: 64, topK };
  const cfr = prepareCfr(device, { current, reference, weights, output }, kernelConfig, {
    width: size,
    height: size,
    temperature: config.temperature,
  });
  const once = async (): Promise<number> => {
    const started = performance.now();
    const encoder = device.createCommandEncoder();
    cfr.encode(encoder);
    device.queue.submit([encoder.finish()]);
    await device.queue.onSubmittedWorkDone();
    return performance.now() - started;
  };
  try {
    const compileMs = await once();
    const times: number[] = [];
    for (let i = 0; i < runs; i++) times.push(await once());
    const plan = cfrMemoryPlan({ width: size, height: size, ...kernelConfig });
    const sorted = [...times].sort((a, b) => a - b);
    return {
      width: size,
      height: size,
      topK: topK === 'all' ? hw : topK,
      runs,
      msPerTile: sorted[Math.floor(sorted.length / 2)] ?? compileMs,
      msPerTileRuns: times,
      compileMs,
      gpuBytes: plan.totalBufferBytes,
      denseSimilarityFp16Bytes: plan.denseSimilarityFp16Bytes,
    };
  } finally {
    cfr.destroy();
    for (const b of [current, reference, weights, output]) b.destroy();
  }
}
