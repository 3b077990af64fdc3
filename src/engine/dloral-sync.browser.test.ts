/**
 * GroupNorm statistics shared by the VAE tiles (the released Tiled VAE's "fast mode") on the tiny
 * pack (run `npx tsx models/tiny-dloral/generate.ts` first; the test server serves models/packs/):
 * the area shrink of the statistics pass, the VAE graphs over tiles against the whole frame on
 * ORT wasm, and the WebGPU pipeline against the CPU one on the synced path.
 */
import { describe, expect, it } from 'vitest';
import { testGpu } from '../../test/gpu-device.ts';
import { readFloat32 } from '../gpu/readback.ts';
import { meanStdRef } from '../kernels/adain/adain.ref.ts';
import { randomFloats } from '../shared/random.ts';
import { areaResizeRef, prepareStatsInput, statsInputRef } from './dloral-area.ts';
import { createDloralCpuCore, runVaeTiled, type VaeGraphRun, type VaeStats } from './dloral-cpu.ts';
import {
  dloralExtra,
  planDloralMemory,
  planVaeTiles,
  VAE_DECODER_OVERLAP,
  VAE_ENCODER_OVERLAP,
  type DloralGraph,
  type DloralTileOverrides,
  type VaeTilePlan,
} from './dloral-pack.ts';
import { Session } from './ort.ts';
import { loadPack, type LoadedPack } from './packs.ts';

const LIMITS = { maxBufferSize: 2 ** 30, maxStorageBufferBindingSize: 2 ** 30 };
let cached: Promise<LoadedPack> | undefined;
const tinyPack = () => (cached ??= loadPack({ type: 'url', url: '/models/packs/tiny-dloral/' }));

/**
 * A picture whose halves differ (a dark, busy left and a bright, flat right), so tiles see other
 * statistics than the whole frame: planar [3, h, w] in [-1, 1].
 */
function picture(width: number, height: number): Float32Array {
  const out = new Float32Array(3 * width * height);
  const noise = randomFloats(3 * width * height, 5);
  for (let c = 0; c < 3; c++)
    for (let y = 0; y < height; y++)
      for (let x = 0; x < width; x++) {
        const t = x / width;
        const busy = (1 - t) * 0.45 * Math.sin(x * (0.21 + 0.05 * c)) * Math.cos(y * 0.17);
        const i = (c * height + y) * width + x;
        out[i] = -0.5 + 0.9 * t + 0.1 * c + busy + 0.1 * (noise[i]! - 0.5);
      }
  return out;
}

function drift(a: Float32Array, b: Float32Array, mask?: Uint8Array) {
  let max = 0;
  let sum = 0;
  let n = 0;
  const plane = mask?.length ?? a.length;
  for (let i = 0; i < a.length; i++) {
    if (mask && !mask[i % plane]) continue;
    const d = Math.abs(a[i]! - b[i]!);
    max = Math.max(max, d);
    sum += d;
    n += 1;
  }
  return { max, mean: sum / n, count: n };
}

function correlationOf(a: Float32Array, b: Float32Array): number {
  const ma = a.reduce((s, v) => s + v, 0) / a.length;
  const mb = b.reduce((s, v) => s + v, 0) / b.length;
  let ab = 0;
  let aa = 0;
  let bb = 0;
  for (let i = 0; i < a.length; i++) {
    ab += (a[i]! - ma) * (b[i]! - mb);
    aa += (a[i]! - ma) ** 2;
    bb += (b[i]! - mb) ** 2;
  }
  return ab / Math.sqrt(aa * bb);
}

const fmt = (d: { max: number; mean: number }) =>
  `mean ${d.mean.toExponential(2)}, max ${d.max.toExponential(2)}`;

/**
 * Output pixels at least `margin` output pixels away from every inner edge of every tile that
 * covers them: there a tile saw the same neighbourhood as the whole frame.
 */
function awayFromSeams(
  plan: VaeTilePlan,
  latent: { width: number; height: number },
  scale: number,
  margin: number,
): Uint8Array {
  const w = latent.width * scale;
  const h = latent.height * scale;
  const mask = new Uint8Array(w * h).fill(1);
  for (const tile of plan.tiles) {
    const x0 = tile.x * scale;
    const y0 = tile.y * scale;
    const x1 = x0 + plan.tileWidth * scale;
    const y1 = y0 + plan.tileHeight * scale;
    for (let y = y0; y < y1; y++)
      for (let x = x0; x < x1; x++) {
        const near =
          (x0 > 0 && x - x0 < margin) ||
          (x1 < w && x1 - 1 - x < margin) ||
          (y0 > 0 && y - y0 < margin) ||
          (y1 < h && y1 - 1 - y < margin);
        if (near) mask[y * w + x] = 0;
      }
  }
  return mask;
}

async function vaeSession(
  pack: LoadedPack,
  graph: DloralGraph,
  latent: { width: number; height: number },
): Promise<Session> {
  const { width: w, height: h } = latent;
  return Session.create(pack.files.get(graph.path)!, {
    backend: 'wasm',
    name: graph.path,
    freeDimensions: { h, w, H: 8 * h, W: 8 * w },
  });
}

/** The graph on the whole frame, then over tiles with each kind of statistics. */
async function tiledDrift(
  pack: LoadedPack,
  graph: DloralGraph,
  io: Pick<VaeGraphRun, 'src' | 'dst'>,
  input: Float32Array,
  latent: { width: number; height: number },
  plan: VaeTilePlan,
) {
  const wholeSession = await vaeSession(pack, graph, latent);
  const tileSession = await vaeSession(pack, graph, {
    width: plan.tileWidth,
    height: plan.tileHeight,
  });
  const onePlan = planVaeTiles(latent.width, latent.height, 10_000, 0);
  const whole = await runVaeTiled(
    { session: wholeSession, graph, ...io },
    input,
    latent,
    onePlan,
    'own',
  );
  const tiled = (stats: VaeStats) =>
    runVaeTiled({ session: tileSession, graph, ...io }, input, latent, plan, stats);
  const own = await tiled('own');
  const estimate = await tiled('estimate');
  const full = await tiled(whole.stats!);
  await wholeSession.release();
  await tileSession.release();
  return { whole, own, estimate, full };
}

describe('VAE GroupNorm sync (tiny pack)', () => {
  it('statistics-pass input: GPU matches the CPU reference (area average, then the frame channel std)', async () => {
    // hand case: 1 channel 3x2 -> 2x1, each output covers 1.5 x 2 input pixels
    const hand = areaResizeRef(Float32Array.from([1, 2, 3, 4, 5, 6]), {
      channels: 1,
      inWidth: 3,
      inHeight: 2,
      outWidth: 2,
      outHeight: 1,
    });
    expect(hand[0]).toBeCloseTo((1 + 4 + 0.5 * (2 + 5)) / 3, 6);
    expect(hand[1]).toBeCloseTo((3 + 6 + 0.5 * (2 + 5)) / 3, 6);
    const { device } = await testGpu();
    const usage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;
    for (const p of [
      { channels: 3, inWidth: 320, inHeight: 192, outWidth: 128, outHeight: 128 },
      { channels: 4, inWidth: 37, inHeight: 23, outWidth: 16, outHeight: 23 },
    ]) {
      const input = randomFloats(p.channels * p.inWidth * p.inHeight, 9);
      const src = device.createBuffer({ size: input.byteLength, usage });
      const dst = device.createBuffer({ size: p.channels * p.outWidth * p.outHeight * 4, usage });
      device.queue.writeBuffer(src, 0, input);
      const stats = prepareStatsInput(device, src, dst, p);
      const encoder = device.createCommandEncoder();
      stats.encode(encoder);
      device.queue.submit([encoder.finish()]);
      const gpu = await readFloat32(device, dst, p.channels * p.outWidth * p.outHeight);
      const cpu = statsInputRef(input, p);
      const d = drift(gpu, cpu);
      console.log(
        `stats input ${p.inWidth}x${p.inHeight} -> ${p.outWidth}x${p.outHeight}: GPU vs CPU ${fmt(d)}`,
      );
      expect(d.max).toBeLessThan(1e-4);
      // the frame's channel mean and std, and the shrink's pattern (not just any such tensor)
      const plane = p.outWidth * p.outHeight;
      const frame = meanStdRef(input, p.channels, p.inWidth * p.inHeight, 0);
      const got = meanStdRef(cpu, p.channels, plane, 0);
      const area = areaResizeRef(input, p);
      for (let c = 0; c < p.channels; c++) {
        expect(got.mean[c]).toBeCloseTo(frame.mean[c]!, 5);
        expect(got.std[c]).toBeCloseTo(frame.std[c]!, 5);
        const a = area.subarray(c * plane, (c + 1) * plane);
        const b = cpu.subarray(c * plane, (c + 1) * plane);
        expect(correlationOf(a, b)).toBeGreaterThan(0.9999);
      }
      stats.destroy();
      src.destroy();
      dst.destroy();
    }
  });

  it('encoder and decoder over tiles: synced statistics bring the tiles much closer to the whole frame', async () => {
    const pack = await tinyPack();
    const extra = dloralExtra(pack.manifest);
    const latent = { width: 56, height: 32 };
    const image = picture(8 * latent.width, 8 * latent.height);
    const encPlan = planVaeTiles(latent.width, latent.height, 24, VAE_ENCODER_OVERLAP);
    const decPlan = planVaeTiles(latent.width, latent.height, 24, VAE_DECODER_OVERLAP);
    expect(encPlan.tiles.length).toBe(6);
    expect(decPlan.tiles.length).toBe(6);
    const enc = await tiledDrift(
      pack,
      extra.vaeEncoder,
      { src: { channels: 3, scale: 8 }, dst: { channels: 4, scale: 1 } },
      image,
      latent,
      encPlan,
    );
    const dec = await tiledDrift(
      pack,
      extra.vaeDecoder,
      { src: { channels: 4, scale: 1 }, dst: { channels: 3, scale: 8 } },
      enc.whole.output,
      latent,
      decPlan,
    );
    // margins: the receptive fields of the tiny nets (6 latent pixels; 48 image pixels). Measured
    // mean drift, own -> estimated statistics: encoder 0.33 -> 0.034, decoder 0.14 -> 0.046.
    for (const [name, r, plan, scale, margin, gain] of [
      ['encoder', enc, encPlan, 1, 6, 0.2],
      ['decoder', dec, decPlan, 8, 48, 0.5],
    ] as const) {
      const own = drift(r.own.output, r.whole.output);
      const estimate = drift(r.estimate.output, r.whole.output);
      const full = drift(r.full.output, r.whole.output);
      const mask = awayFromSeams(plan, latent, scale, margin);
      const fullInside = drift(r.full.output, r.whole.output, mask);
      const ownInside = drift(r.own.output, r.whole.output, mask);
      console.log(
        `${name} (${plan.tiles.length} tiles) vs whole frame: own stats ${fmt(own)}; estimated ${fmt(estimate)}; full-resolution ${fmt(full)}; ${margin} px from seams (${fullInside.count} values): full-resolution ${fmt(fullInside)}, own ${fmt(ownInside)}`,
      );
      // the statistics pass on the shrunk frame: most of the tone drift gone
      expect(estimate.mean).toBeLessThan(gain * own.mean);
      // the whole frame's own statistics: away from seams the tiles ARE the whole frame
      expect(fullInside.count).toBeGreaterThan(0.1 * mask.length);
      expect(fullInside.max).toBeLessThan(1e-4);
      expect(ownInside.mean).toBeGreaterThan(100 * fullInside.max);
    }
  });

  it('CPU pipeline: VAE tiles with synced statistics stay much closer to the whole-frame result', async () => {
    const pack = await tinyPack();
    const [width, height] = [32, 24];
    const lq = picture(width, height);
    const run = async (tiles?: DloralTileOverrides) => {
      const plan = planDloralMemory(pack.manifest, { width, height }, LIMITS, tiles);
      const core = await createDloralCpuCore(pack, plan);
      const frame = await core.process(lq);
      await core.release();
      return { plan, frame };
    };
    const tiles = { vaeEncoderTile: 64, vaeDecoderTile: 8 };
    const whole = await run();
    const synced = await run(tiles);
    const own = await run({ ...tiles, groupNormSync: false });
    expect(whole.plan.encoderTiles.tiles.length).toBe(1);
    expect(synced.plan.encoderTiles.tiles.length).toBe(6);
    expect(synced.plan.decoderTiles.tiles.length).toBe(6);
    expect([synced.plan.encoderSync, synced.plan.decoderSync]).toEqual([true, true]);
    const latentSync = drift(synced.frame.latent, whole.frame.latent);
    const latentOwn = drift(own.frame.latent, whole.frame.latent);
    const imageSync = drift(synced.frame.image, whole.frame.image);
    const imageOwn = drift(own.frame.image, whole.frame.image);
    console.log(
      `pipeline 32x24 -> 128x96, 6 + 6 VAE tiles vs whole frame: latent synced ${fmt(latentSync)}, own ${fmt(latentOwn)}; image synced ${fmt(imageSync)}, own ${fmt(imageOwn)}`,
    );
    // measured: latent 0.084 vs 0.28, image 0.058 vs 0.20 (mean |d| in [-1, 1] / latent units)
    expect(latentSync.mean).toBeLessThan(0.5 * latentOwn.mean);
    expect(imageSync.mean).toBeLessThan(0.5 * imageOwn.mean);
  });

  it('the plan syncs a VAE graph only when it has the contract and several tiles', async () => {
    const pack = await tinyPack();
    const one = planDloralMemory(pack.manifest, { width: 16, height: 16 }, LIMITS);
    expect([one.encoderSync, one.decoderSync]).toEqual([false, false]);
    const tiles = { vaeEncoderTile: 64, vaeDecoderTile: 8 };
    const many = planDloralMemory(pack.manifest, { width: 32, height: 24 }, LIMITS, tiles);
    expect(many.encoderTiles.tiles.length).toBeGreaterThan(1);
    expect([many.encoderSync, many.decoderSync]).toEqual([true, true]);
    const off = planDloralMemory(pack.manifest, { width: 32, height: 24 }, LIMITS, {
      ...tiles,
      groupNormSync: false,
    });
    expect([off.encoderSync, off.decoderSync]).toEqual([false, false]);
  });
});
