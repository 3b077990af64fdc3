import { describe, expect, it, vi } from 'vitest';
import { testDevice, withValidation } from '../../../test/gpu-device.ts';
import { readFloat32 } from '../../gpu/readback.ts';
import { UpframeError } from '../../shared/errors.ts';
import { mulberry32, randomFloats } from '../../shared/random.ts';
import {
  CFR_BAND_WORK_BUDGET,
  CFR_MAX_TOPK,
  cfrAttentionWork,
  cfrBandRows,
  cfrMemoryPlan,
  prepareCfr,
  prepareCfrAttention,
  uploadCfrWeights,
  type CfrBandOptions,
  type CfrDispatchParams,
  type CfrKernelConfig,
  type PreparedCfr,
} from './cfr-attention.ts';
import { cfrAttentionRef, cfrDenseRef, cfrRef, type Projections } from './cfr-attention.ref.ts';
import { randomCfrWeights, type CfrConfig, type CfrWeights } from './cfr-weights.ts';

function storage(device: GPUDevice, data: Float32Array<ArrayBuffer> | number): GPUBuffer {
  const size = typeof data === 'number' ? data * 4 : data.byteLength;
  const buffer = device.createBuffer({
    size: Math.max(16, Math.ceil(size / 16) * 16),
    usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC,
  });
  if (typeof data !== 'number') device.queue.writeBuffer(buffer, 0, data);
  return buffer;
}

function kernelConfig(weights: CfrWeights, topK: number | 'all'): CfrKernelConfig {
  const { inChannels, heads, headDim } = weights.config;
  return { inChannels, heads, headDim, topK };
}

async function gpuCfr(
  current: Float32Array<ArrayBuffer>,
  reference: Float32Array<ArrayBuffer>,
  weights: CfrWeights,
  topK: number | 'all',
  params: CfrDispatchParams,
  prepareFor: CfrDispatchParams = params,
): Promise<Float32Array> {
  const device = await testDevice();
  return withValidation(device, async () => {
    const count = weights.config.inChannels * params.width * params.height;
    const capacity = weights.config.inChannels * prepareFor.width * prepareFor.height;
    const buffers = {
      current: storage(device, current),
      reference: storage(device, reference),
      weights: uploadCfrWeights(device, weights),
      output: storage(device, capacity),
    };
    const cfr = prepareCfr(device, buffers, kernelConfig(weights, topK), prepareFor);
    if (prepareFor !== params) cfr.update(params);
    const encoder = device.createCommandEncoder();
    cfr.encode(encoder);
    device.queue.submit([encoder.finish()]);
    const out = await readFloat32(device, buffers.output, count);
    cfr.destroy();
    for (const b of Object.values(buffers)) b.destroy();
    return out;
  });
}

async function gpuAttention(
  proj: Projections,
  weights: CfrWeights,
  topK: number | 'all',
  params: CfrDispatchParams,
): Promise<Float32Array> {
  const device = await testDevice();
  return withValidation(device, async () => {
    const buffers = {
      q: storage(device, proj.q),
      k: storage(device, proj.k),
      v: storage(device, proj.v),
      weights: uploadCfrWeights(device, weights),
      output: storage(device, proj.q.length),
    };
    const attn = prepareCfrAttention(device, buffers, kernelConfig(weights, topK), params);
    const encoder = device.createCommandEncoder();
    attn.encode(encoder);
    device.queue.submit([encoder.finish()]);
    const out = await readFloat32(device, buffers.output, proj.q.length);
    attn.destroy();
    for (const b of Object.values(buffers)) b.destroy();
    return out;
  });
}

/**
 * GPU vs reference, scaled by what the attention adds (fused - current), so a small attention
 * term under temperature 3000 is still checked rather than hidden by the residual.
 */
function expectFusedClose(gpu: Float32Array, ref: Float32Array, current: Float32Array): void {
  expect(gpu.length).toBe(ref.length);
  let scale = 0;
  let err = 0;
  for (let i = 0; i < ref.length; i++) {
    scale = Math.max(scale, Math.abs(ref[i]! - current[i]!));
    err = Math.max(err, Math.abs(gpu[i]! - ref[i]!));
  }
  expect(scale).toBeGreaterThan(0);
  expect(err).toBeLessThanOrEqual(2e-5 * scale + 4e-7 * 8);
}

function randomCase(config: CfrConfig, w: number, h: number, seed: number) {
  const n = config.inChannels * w * h;
  return {
    weights: randomCfrWeights(config, seed),
    current: randomFloats(n, seed + 1, -1, 1),
    reference: randomFloats(n, seed + 2, -1, 1),
  };
}

const SMALL: CfrConfig = { inChannels: 4, heads: 2, headDim: 8, temperature: 0.25 };

/** Inputs of the PyTorch fixture below, from the same formula as the script that made it. */
function fixtureValues(n: number, salt: number): Float32Array<ArrayBuffer> {
  return Float32Array.from({ length: n }, (_, i) => (((i * 7 + salt * 13) % 19) - 9) / 16);
}

function fixtureCase() {
  const config = { inChannels: 2, heads: 2, headDim: 3, temperature: 0.5 };
  const [c, cin, d, hw] = [6, 2, 3, 12];
  const tensors = {
    'q.weight': fixtureValues(c * cin, 3),
    'q.bias': fixtureValues(c, 4),
    'k.weight': fixtureValues(c * cin, 5),
    'k.bias': fixtureValues(c, 6),
    'v.weight': fixtureValues(c * cin, 7),
    'v.bias': fixtureValues(c, 8),
    'tau.weight': fixtureValues(d, 9),
    'tau.bias': Float32Array.of(0.125),
    'out.weight': fixtureValues(cin * c, 11),
    'out.bias': fixtureValues(cin, 12),
  };
  return {
    weights: { config, tensors },
    current: fixtureValues(cin * hw, 1),
    reference: fixtureValues(cin * hw, 2),
  };
}

// Made with torch 1.13 (/usr/bin/python3) by the released module's own ops on the inputs above:
// Conv2d 1x1 for Q/K/V, view [1, heads, d, HW], sim = matmul(Q^T, K) / sqrt(d), tau = Linear(d, 1)
// on Q^T, attn = relu((sim - tau) / T), out = matmul(attn, V^T), fused = cur + Conv2d(out).
// 3 x 4 tile, 2 heads x 3, T = 0.5; 20 % of the (query, key) weights are non-zero.
// prettier-ignore
const TORCH_CFR = [-0.0625, -1.0458192825317383, -0.8260412216186523, 0.0625, -1.0326178073883057, -0.7366837859153748, 0.1875, -0.9522812962532043, -0.08591023087501526, -1.029754400253296, -0.8681212067604065, 0.0, -0.3125, -0.1870722621679306, 0.23590931296348572, -0.1875, -0.022722691297531128, 0.33667317032814026, -0.0625, 0.08249843120574951, -0.41162264347076416, -0.29060477018356323, 0.18477235734462738, -0.25];

describe('cfr-attention kernel: GPU vs CPU reference', () => {
  it('the dense reference and the kernel (k = all) match the released PyTorch code', async () => {
    const { weights, current, reference } = fixtureCase();
    const params = { width: 4, height: 3, temperature: 0.5 };
    const dense = cfrDenseRef(current, reference, weights, params);
    for (let i = 0; i < dense.length; i++) expect(dense[i]).toBeCloseTo(TORCH_CFR[i]!, 6);
    const gpu = await gpuCfr(current, reference, weights, 'all', params);
    for (let i = 0; i < gpu.length; i++) expect(gpu[i]).toBeCloseTo(TORCH_CFR[i]!, 5);
  });

  it.each([
    [1, undefined],
    [7, undefined],
    [7, 3],
    ['all', undefined],
    ['all', 2],
  ] as const)('random 37x23, 2 heads x 8, k=%s, radius=%s', async (topK, radius) => {
    const [w, h] = [37, 23];
    const { weights, current, reference } = randomCase(SMALL, w, h, 31);
    const params = { width: w, height: h, temperature: SMALL.temperature, radius };
    const ref = cfrRef(current, reference, weights, { ...params, topK });
    const gpu = await gpuCfr(current, reference, weights, topK, params);
    expectFusedClose(gpu, ref, current);
  });

  it('k = H * W (851 > the top-k limit) is accepted and equals the dense released-code reference', async () => {
    const [w, h] = [37, 23];
    const { weights, current, reference } = randomCase(SMALL, w, h, 5);
    const params = { width: w, height: h, temperature: SMALL.temperature };
    const dense = cfrDenseRef(current, reference, weights, params);
    // the streamed top-k reference at k = HW is the dense one, bit for bit
    expect(Array.from(cfrRef(current, reference, weights, { ...params, topK: w * h }))).toEqual(
      Array.from(dense),
    );
    expectFusedClose(await gpuCfr(current, reference, weights, w * h, params), dense, current);
  });

  it.each([16, 'all'] as const)(
    '9 heads x 64 (DLoRAL sizes), 13x11, T=3000, k=%s',
    async (topK) => {
      const config = { inChannels: 4, heads: 9, headDim: 64, temperature: 3000 };
      const [w, h] = [13, 11];
      const { weights, current, reference } = randomCase(config, w, h, 77);
      const params = { width: w, height: h, temperature: 3000 };
      const ref =
        topK === 'all'
          ? cfrDenseRef(current, reference, weights, params)
          : cfrRef(current, reference, weights, { ...params, topK });
      expectFusedClose(await gpuCfr(current, reference, weights, topK, params), ref, current);
    },
  );

  it('prepared for a full tile, updated to a smaller edge tile', async () => {
    const { weights, current, reference } = randomCase(SMALL, 11, 9, 3);
    const params = { width: 11, height: 9, temperature: 0.5, radius: 4 };
    const full = { width: 24, height: 16, temperature: 0.5 };
    const ref = cfrRef(current, reference, weights, { ...params, topK: 5 });
    expectFusedClose(await gpuCfr(current, reference, weights, 5, params, full), ref, current);
  });
});

/**
 * Inputs where the selection is visible: V is one-hot (V[h, j, q] = 1 iff j = q, so headDim >=
 * HW), Q and K are non-zero only in channel 0, so sim[h, p, q] = Q0[h, p] * K0[h, q] / sqrt(d)
 * and out[h, j, p] is the weight of key j if it was selected, else 0.
 */
function selectionCase(w: number, h: number, seed: number, ties: boolean) {
  const hw = w * h;
  const heads = 2;
  const d = 32;
  expect(d).toBeGreaterThanOrEqual(hw);
  const rand = mulberry32(seed);
  const q = new Float32Array(heads * d * hw);
  const k = new Float32Array(heads * d * hw);
  const v = new Float32Array(heads * d * hw);
  for (let head = 0; head < heads; head++) {
    // a shuffled ranking of the keys, unrelated to their index or position
    const rank = Array.from({ length: hw }, (_, i) => i);
    for (let i = hw - 1; i > 0; i--) {
      const j = Math.floor(rand() * (i + 1));
      [rank[i], rank[j]] = [rank[j]!, rank[i]!];
    }
    for (let key = 0; key < hw; key++) {
      k[head * d * hw + key] = ties ? Math.floor(rank[key]! / 3) : rank[key]!;
      v[(head * d + key) * hw + key] = 1;
    }
    // queries alternate in sign, so half of them rank the keys the other way round
    for (let p = 0; p < hw; p++) q[head * d * hw + p] = p % 2 === 0 ? 1 : -0.5;
  }
  const weights = randomCfrWeights({ inChannels: 1, heads, headDim: d, temperature: 1 }, seed);
  weights.tensors['tau.weight'].fill(0);
  weights.tensors['tau.bias'][0] = -100; // every key above the threshold
  return { proj: { q, k, v }, weights, heads, d };
}

/** The keys whose weight the GPU put in out[h, :, p]. */
function selectedKeys(out: Float32Array, h: number, p: number, d: number, hw: number): number[] {
  const keys: number[] = [];
  for (let j = 0; j < hw; j++) if (out[(h * d + j) * hw + p] !== 0) keys.push(j);
  return keys;
}

describe('cfr-attention kernel: top-k selection', () => {
  it.each([
    [1, false],
    [7, false],
    [7, true],
  ])('returns exactly the k best keys (k=%i, ties=%s)', async (topK, ties) => {
    const [w, h] = [6, 5];
    const hw = w * h;
    const { proj, weights, heads, d } = selectionCase(w, h, 12 + topK, ties);
    const params = { width: w, height: h, temperature: 1 };
    const gpu = await gpuAttention(proj, weights, topK, params);
    const ref = cfrAttentionRef(proj, weights, { ...params, topK });
    let differsFromFirst = false;
    let differsFromNearest = false;
    for (let head = 0; head < heads; head++) {
      for (let p = 0; p < hw; p++) {
        // the k best by construction: order by sim, ties to the lower key index
        const sim = (key: number) => proj.q[head * d * hw + p]! * proj.k[head * d * hw + key]!;
        const byRank = Array.from({ length: hw }, (_, i) => i).sort(
          (a, b) => sim(b) - sim(a) || a - b,
        );
        const best = byRank.slice(0, topK).sort((a, b) => a - b);
        expect(ref.selected[head * hw + p]).toEqual(best);
        expect(selectedKeys(gpu, head, p, d, hw)).toEqual(best);
        const first = Array.from({ length: topK }, (_, i) => i);
        const [px, py] = [p % w, Math.floor(p / w)];
        const dist = (key: number) => Math.hypot((key % w) - px, Math.floor(key / w) - py);
        const nearest = Array.from({ length: hw }, (_, i) => i)
          .sort((a, b) => dist(a) - dist(b) || a - b)
          .slice(0, topK)
          .sort((a, b) => a - b);
        differsFromFirst ||= first.join() !== best.join();
        differsFromNearest ||= nearest.join() !== best.join();
      }
    }
    // the case must be able to catch a kernel that keeps the first or the nearest keys
    expect(differsFromFirst && differsFromNearest).toBe(true);
    for (let i = 0; i < gpu.length; i++) expect(gpu[i]).toBeCloseTo(ref.out[i]!, 4);
  });

  it('keys under tau never count, even among the k best', async () => {
    const [w, h] = [6, 5];
    const hw = w * h;
    const { proj, weights, heads, d } = selectionCase(w, h, 40, false);
    // sim = Q0 * rank / sqrt(32): for Q0 = 1 only ranks 27..29 clear a tau of 26.5 / sqrt(32)
    weights.tensors['tau.bias'][0] = 26.5 / Math.sqrt(32);
    const params = { width: w, height: h, temperature: 1 };
    const gpu = await gpuAttention(proj, weights, 7, params);
    const ref = cfrAttentionRef(proj, weights, { ...params, topK: 7 });
    for (let head = 0; head < heads; head++) {
      for (let p = 0; p < hw; p += 2) {
        expect(selectedKeys(gpu, head, p, d, hw)).toHaveLength(3);
      }
      for (let p = 1; p < hw; p += 2) expect(selectedKeys(gpu, head, p, d, hw)).toHaveLength(0);
    }
    for (let i = 0; i < gpu.length; i++) expect(gpu[i]).toBeCloseTo(ref.out[i]!, 4);
  });

  it.each([1, 2])('never takes a key outside the search radius (r=%i)', async (radius) => {
    const [w, h] = [6, 5];
    const hw = w * h;
    const { proj, weights, heads, d } = selectionCase(w, h, 9, false);
    const params = { width: w, height: h, temperature: 1, radius };
    const topK = 4;
    const gpu = await gpuAttention(proj, weights, topK, params);
    const ref = cfrAttentionRef(proj, weights, { ...params, topK });
    let clipped = 0;
    for (let head = 0; head < heads; head++) {
      for (let p = 0; p < hw; p++) {
        const keys = selectedKeys(gpu, head, p, d, hw);
        for (const key of keys) {
          expect(Math.abs((key % w) - (p % w))).toBeLessThanOrEqual(radius);
          expect(Math.abs(Math.floor(key / w) - Math.floor(p / w))).toBeLessThanOrEqual(radius);
        }
        expect(keys).toEqual(ref.selected[head * hw + p]);
        // how often the radius changed the answer (the unrestricted best lay outside)
        const all = cfrAttentionRef(proj, weights, { ...params, topK, radius: undefined });
        if (all.selected[head * hw + p]!.join() !== keys.join()) clipped++;
      }
    }
    expect(clipped).toBeGreaterThan(hw / 2);
  });
});

describe('cfr-attention descriptor', () => {
  it('refuses a top-k over the limit unless it is every key', async () => {
    const device = await testDevice();
    const weights = randomCfrWeights(SMALL, 1);
    const buffers = {
      current: storage(device, 4 * 100),
      reference: storage(device, 4 * 100),
      weights: uploadCfrWeights(device, weights),
      output: storage(device, 4 * 100),
    };
    const params = { width: 10, height: 10, temperature: 1 };
    const attempt = (topK: number) => () =>
      prepareCfr(device, buffers, kernelConfig(weights, topK), params).destroy();
    expect(attempt(CFR_MAX_TOPK + 1)).toThrow(UpframeError);
    expect(attempt(CFR_MAX_TOPK + 1)).toThrow(/top-k 33 .* k = H \* W = 100/);
    expect(attempt(0)).toThrow(UpframeError);
    expect(attempt(100)).not.toThrow();
    expect(attempt(CFR_MAX_TOPK)).not.toThrow();
    for (const b of Object.values(buffers)) b.destroy();
  });

  it('plans O(C * HW) buffers for a 96x96 tile, 9 x 64: nothing HW x HW', () => {
    for (const topK of [16, 'all'] as const) {
      const plan = cfrMemoryPlan({
        width: 96,
        height: 96,
        inChannels: 4,
        heads: 9,
        headDim: 64,
        topK,
      });
      const mib = (b: number) => (b / 2 ** 20).toFixed(2);
      console.log(
        `CFR 96x96 9x64 k=${topK}: buffers ${plan.buffers.map((b) => `${b.name} ${mib(b.bytes)} MiB`).join(', ')}; ` +
          `total ${mib(plan.totalBufferBytes)} MiB; workgroup ${plan.workgroupBytes} B; ` +
          `private ${plan.privateBytesPerQuery} B/query; released dense fp16 sim ${mib(plan.denseSimilarityFp16Bytes)} MiB`,
      );
      const largest = Math.max(...plan.buffers.map((b) => b.bytes));
      expect(largest).toBe(576 * 96 * 96 * 4);
      expect(plan.totalBufferBytes).toBeLessThan(90e6);
      expect(plan.denseSimilarityFp16Bytes).toBe(9 * 9216 * 9216 * 2);
      expect(plan.workgroupBytes).toBeLessThanOrEqual(32768);
    }
  });
});

/** How a banded kernel is driven: one encode, or one submit per band as the bench does. */
type Drive = 'encode' | 'submit per band';

async function runBanded(device: GPUDevice, kernel: PreparedCfr, drive: Drive): Promise<void> {
  if (drive === 'encode') {
    const encoder = device.createCommandEncoder();
    kernel.encode(encoder);
    device.queue.submit([encoder.finish()]);
    return;
  }
  for (let band = 0; band < kernel.bands; band++) {
    const encoder = device.createCommandEncoder();
    kernel.encodeBand(encoder, band);
    device.queue.submit([encoder.finish()]);
    await device.queue.onSubmittedWorkDone();
  }
}

/** The fused output of one prepared CFR (banded or not) on fresh buffers, and its band count. */
async function gpuCfrWith(
  c: ReturnType<typeof randomCase>,
  topK: number | 'all',
  params: CfrDispatchParams,
  options: CfrBandOptions,
  drive: Drive,
  prepareFor: CfrDispatchParams = params,
): Promise<{ out: Float32Array; bands: number }> {
  const device = await testDevice();
  return withValidation(device, async () => {
    const count = c.weights.config.inChannels * params.width * params.height;
    const buffers = {
      current: storage(device, c.current),
      reference: storage(device, c.reference),
      weights: uploadCfrWeights(device, c.weights),
      output: storage(device, c.weights.config.inChannels * prepareFor.width * prepareFor.height),
    };
    const cfr = prepareCfr(device, buffers, kernelConfig(c.weights, topK), prepareFor, options);
    if (prepareFor !== params) cfr.update(params);
    await runBanded(device, cfr, drive);
    const out = await readFloat32(device, buffers.output, count);
    const bands = cfr.bands;
    cfr.destroy();
    for (const b of Object.values(buffers)) b.destroy();
    return { out, bands };
  });
}

describe('cfr-attention kernel: bands of query rows', () => {
  // 23 rows in bands of 8: 8 + 8 + 7, so the last band is partial and every band but the first
  // starts at a non-zero row (a band that ignored its offset would redo rows 0..7 and leave the
  // rest unwritten; one that clipped keys to its own rows would lose neighbours across bands)
  const [w, h] = [37, 23];
  it.each([
    [7, undefined],
    [7, 3],
    ['all', undefined],
    ['all', 2],
  ] as const)(
    'bands of 8 on 37x23 equal one band bit for bit and the CPU reference (k=%s, radius=%s)',
    async (topK, radius) => {
      const c = randomCase(SMALL, w, h, 61);
      const params = { width: w, height: h, temperature: SMALL.temperature, radius };
      const whole = await gpuCfrWith(c, topK, params, {}, 'encode');
      const encoded = await gpuCfrWith(c, topK, params, { bandRows: 8 }, 'encode');
      const submitted = await gpuCfrWith(c, topK, params, { bandRows: 8 }, 'submit per band');
      expect([whole.bands, encoded.bands, submitted.bands]).toEqual([1, 3, 3]);
      expect(Array.from(encoded.out)).toEqual(Array.from(whole.out));
      expect(Array.from(submitted.out)).toEqual(Array.from(whole.out));
      const ref = cfrRef(c.current, c.reference, c.weights, { ...params, topK });
      expectFusedClose(submitted.out, ref, c.current);
    },
  );

  it('updated to a smaller tile, the bands follow it (2 of the 3 prepared)', async () => {
    const c = randomCase(SMALL, 20, 14, 62);
    const params = { width: 20, height: 14, temperature: SMALL.temperature, radius: 2 };
    const full = { width: w, height: h, temperature: SMALL.temperature };
    const banded = await gpuCfrWith(c, 5, params, { bandRows: 8 }, 'submit per band', full);
    expect(banded.bands).toBe(2);
    const ref = cfrRef(c.current, c.reference, c.weights, { ...params, topK: 5 });
    expectFusedClose(banded.out, ref, c.current);
    const whole = await gpuCfrWith(c, 5, params, {}, 'encode');
    expect(Array.from(banded.out)).toEqual(Array.from(whole.out));
  });

  it('the attention pass alone, banded, equals one band and the reference', async () => {
    const c = randomCase(SMALL, w, h, 63);
    const params = { width: w, height: h, temperature: SMALL.temperature, radius: 4 };
    const device = await testDevice();
    const proj = {
      q: randomFloats(16 * w * h, 64, -1, 1),
      k: randomFloats(16 * w * h, 65, -1, 1),
      v: randomFloats(16 * w * h, 66, -1, 1),
    };
    const run = (options: CfrBandOptions, drive: Drive) =>
      withValidation(device, async () => {
        const buffers = {
          q: storage(device, proj.q),
          k: storage(device, proj.k),
          v: storage(device, proj.v),
          weights: uploadCfrWeights(device, c.weights),
          output: storage(device, proj.q.length),
        };
        const kernel = prepareCfrAttention(
          device,
          buffers,
          kernelConfig(c.weights, 6),
          params,
          options,
        );
        await runBanded(device, kernel, drive);
        const out = await readFloat32(device, buffers.output, proj.q.length);
        kernel.destroy();
        for (const b of Object.values(buffers)) b.destroy();
        return out;
      });
    const whole = await run({}, 'encode');
    const banded = await run({ bandRows: 16 }, 'submit per band');
    expect(Array.from(banded)).toEqual(Array.from(whole));
    const ref = cfrAttentionRef(proj, c.weights, { ...params, topK: 6 });
    let scale = 0;
    for (let i = 0; i < ref.out.length; i++) {
      scale = Math.max(scale, Math.abs(ref.out[i]!));
      expect(banded[i]).toBeCloseTo(ref.out[i]!, 4);
    }
    expect(scale).toBeGreaterThan(0);
  });

  it('encodes and updates without creating GPU objects; refuses bands it has no slot for', async () => {
    const device = await testDevice();
    const c = randomCase(SMALL, w, h, 67);
    const buffers = {
      current: storage(device, c.current),
      reference: storage(device, c.reference),
      weights: uploadCfrWeights(device, c.weights),
      output: storage(device, c.current.length),
    };
    const params = { width: w, height: h, temperature: 1 };
    const cfr = prepareCfr(device, buffers, kernelConfig(c.weights, 4), params, { bandRows: 8 });
    const spies = [
      vi.spyOn(device, 'createBuffer'),
      vi.spyOn(device, 'createBindGroup'),
      vi.spyOn(device, 'createComputePipeline'),
    ];
    try {
      cfr.update({ ...params, width: 30, radius: 3 });
      const encoder = device.createCommandEncoder();
      cfr.encode(encoder);
      for (let band = 0; band < cfr.bands; band++) cfr.encodeBand(encoder, band);
      device.queue.submit([encoder.finish()]);
      for (const spy of spies) expect(spy).not.toHaveBeenCalled();
    } finally {
      for (const spy of spies) spy.mockRestore();
    }
    expect(() => cfr.encodeBand(device.createCommandEncoder(), 3)).toThrow(/band 3/);
    // 10 x 40 fits the scratch buffers (400 <= 851 positions) but needs 5 bands of 8, not 3
    expect(() => cfr.update({ width: 10, height: 40, temperature: 1 })).toThrow(
      /needs 5 bands of 8 rows; this CFR was prepared with 3/,
    );
    for (const rows of [0, 12, -8, 8.5]) {
      expect(() =>
        prepareCfr(device, buffers, kernelConfig(c.weights, 4), params, { bandRows: rows }),
      ).toThrow(UpframeError);
    }
    cfr.destroy();
    for (const b of Object.values(buffers)) b.destroy();
  });

  it('the band rule: whole multiples of 8 rows under the work budget, at least 8', () => {
    const dloral = { heads: 9, headDim: 64 };
    // 96 x 96, every key: one row is 96 x 9216 x 9 x 64 = 509.6 M multiply-adds
    const big = { width: 96, height: 96 };
    expect(cfrAttentionWork(dloral, big, 1)).toBe(96 * 9216 * 9 * 64);
    expect(cfrBandRows(dloral, big)).toBe(8);
    expect(cfrAttentionWork(dloral, big, 8)).toBeLessThanOrEqual(CFR_BAND_WORK_BUDGET);
    expect(cfrAttentionWork(dloral, big, 16)).toBeGreaterThan(CFR_BAND_WORK_BUDGET);
    // with a radius of 16 each query visits a 40 x 40 window: 88.5 M per row, 48 rows fit
    expect(cfrBandRows(dloral, { ...big, radius: 16 })).toBe(48);
    // with a radius of 8 (24 x 24 windows) the whole tile is 3.1 G: one band
    expect(cfrBandRows(dloral, { ...big, radius: 8 })).toBe(96);
    // 24 x 24 (the bench's small case) fits in one band
    expect(cfrBandRows(dloral, { width: 24, height: 24 })).toBe(24);
    // over budget even at 8 rows: 8 rows, not fewer
    expect(cfrBandRows(dloral, big, 1e6)).toBe(8);
    const plan = cfrMemoryPlan({ ...big, ...dloral, inChannels: 4, topK: 16, bandRows: 'auto' });
    expect([plan.bands, plan.bandRows, plan.bandWork]).toEqual([12, 8, 8 * 96 * 9216 * 576]);
    const one = cfrMemoryPlan({ ...big, ...dloral, inChannels: 4, topK: 16 });
    expect([one.bands, one.bandRows]).toEqual([1, 96]);
    expect(plan.totalBufferBytes - one.totalBufferBytes).toBe(11 * 256);
  });
});
