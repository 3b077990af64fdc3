import * as ort from 'onnxruntime-web';
import { describe, expect, it } from 'vitest';
import { dloralExtra, planDloralMemory } from '../../src/engine/dloral-pack.ts';
import { parseManifest } from '../../src/engine/manifest.ts';
import { parseCfrPack } from '../../src/kernels/cfr-attention/cfr-weights.ts';
import { GN_SYNC_NAMES, generateTinyDloral, tinyVae } from './generate.ts';
import { SPYNET_PATH, TINY_DLORAL_SEED, withTinySpynet } from './spynet.ts';

// Plain Node has no crossOriginIsolated `self`, so ORT would pick 1 thread anyway; say it.
ort.env.wasm.numThreads = 1;

const pack = generateTinyDloral();
const withSpynet = generateTinyDloral(TINY_DLORAL_SEED, { spynet: true });

async function run(
  path: string,
  feeds: Record<string, ort.Tensor>,
  from = pack,
): Promise<Record<string, ort.Tensor>> {
  const session = await ort.InferenceSession.create(from.files.get(path)!, {
    executionProviders: ['wasm'],
  });
  try {
    return await session.run(feeds);
  } finally {
    await session.release();
  }
}

/** The GroupNorm sync inputs for a plain run (mix 0: each graph uses its own statistics). */
const ownStats = () => ({
  gn_stats: new ort.Tensor('float32', new Float32Array(56), [56]),
  gn_use_given: new ort.Tensor('float32', new Float32Array([0]), []),
});

function smooth(count: number, k: number): Float32Array {
  return Float32Array.from({ length: count }, (_, i) => 0.8 * Math.sin(i * k));
}

function std(a: Float32Array): number {
  const m = a.reduce((s, v) => s + v, 0) / a.length;
  return Math.sqrt(a.reduce((s, v) => s + (v - m) ** 2, 0) / a.length);
}

describe('tiny dloral pack', () => {
  it('is deterministic: two generations give the same bytes', () => {
    const again = generateTinyDloral();
    expect(again.manifest.files.map((f) => f.sha256)).toEqual(
      pack.manifest.files.map((f) => f.sha256),
    );
    // and another seed really changes the weights
    const other = generateTinyDloral(7);
    expect(other.manifest.files[0]!.sha256).not.toBe(pack.manifest.files[0]!.sha256);
  });

  it('has a valid manifest with the dloral contract', () => {
    const json: unknown = JSON.parse(new TextDecoder().decode(pack.files.get('manifest.json')));
    const manifest = parseManifest(json, 'tiny-dloral');
    const extra = dloralExtra(manifest);
    expect(extra.unet.inputs.map((t) => t.name)).toEqual([
      'sample',
      'timestep',
      'encoder_hidden_states',
    ]);
    expect(extra.unet.inputs[0]!.shape).toEqual([1, 8, 'h', 'w']);
    expect(extra.prompt.shape).toEqual([1, 77, 1024]);
    const cfr = parseCfrPack(
      new TextDecoder().decode(pack.files.get('cfr.json')),
      pack.files.get('cfr.bin')!,
    );
    expect(cfr.config.inChannels).toBe(4);
    for (const f of manifest.files) expect(pack.files.get(f.path)!.byteLength).toBe(f.bytes);
    const plan = planDloralMemory(
      manifest,
      { width: 16, height: 16 },
      {
        maxBufferSize: 2 ** 30,
        maxStorageBufferBindingSize: 2 ** 30,
      },
    );
    expect(plan.latentTiles.tiles.length).toBe(1);
    expect(plan.geometry.latentWidth).toBe(8);
  });

  it('runs on ORT wasm with the contract shapes, at even and odd latent sizes', async () => {
    const image = smooth(3 * 64 * 48, 0.013);
    const enc = await run('vae_encoder.onnx', {
      image: new ort.Tensor('float32', image, [1, 3, 48, 64]),
      ...ownStats(),
    });
    const latent = enc['latent']!;
    expect(latent.dims).toEqual([1, 4, 6, 8]);
    const z = latent.data as Float32Array;
    // latents in the SD range after the 0.18215 scaling: order one, not tiny, not huge
    expect(std(z)).toBeGreaterThan(0.2);
    expect(std(z)).toBeLessThan(3);
    const prompt = pack.files.get('prompt.bin')!;
    const context = new Float32Array(prompt.slice().buffer);
    for (const [h, w] of [
      [6, 8],
      [5, 7],
    ] as const) {
      const sample = smooth(8 * h * w, 0.37);
      const out = await run('unet.onnx', {
        sample: new ort.Tensor('float32', sample, [1, 8, h, w]),
        timestep: new ort.Tensor('float32', new Float32Array([1]), [1]),
        encoder_hidden_states: new ort.Tensor('float32', context, [1, 77, 1024]),
      });
      expect(out['out_sample']!.dims).toEqual([1, 4, h, w]);
      const u = out['out_sample']!.data as Float32Array;
      expect(std(u)).toBeGreaterThan(0.05);
      expect(u.every(Number.isFinite)).toBe(true);
    }
    const dec = await run('vae_decoder.onnx', { latent, ...ownStats() });
    const img = dec['image']!;
    expect(img.dims).toEqual([1, 3, 48, 64]);
    const pixels = img.data as Float32Array;
    expect(Math.min(...pixels)).toBeGreaterThanOrEqual(-1);
    expect(Math.max(...pixels)).toBeLessThanOrEqual(1);
    expect(std(pixels)).toBeGreaterThan(0.1);
  });

  it('VAE GroupNorm sync: mix 0 is the plain graph bit for bit and gives its statistics; mix 1 normalises with the given ones', async () => {
    const plain = tinyVae(TINY_DLORAL_SEED, false);
    const synced = tinyVae(TINY_DLORAL_SEED, true);
    const extra = dloralExtra(pack.manifest);
    expect(extra.vaeEncoder.groupNormSync).toEqual({ ...GN_SYNC_NAMES, count: 56 });
    expect(extra.vaeDecoder.groupNormSync).toEqual({ ...GN_SYNC_NAMES, count: 56 });
    // the served pack's VAE files are the synced graphs
    expect(pack.files.get('vae_encoder.onnx')).toEqual(synced.encoder.bytes);
    expect(pack.files.get('vae_decoder.onnx')).toEqual(synced.decoder.bytes);
    const cases = [
      { graph: 'encoder', input: 'image', output: 'latent', dims: [1, 3, 40, 48], k: 0.011 },
      { graph: 'decoder', input: 'latent', output: 'image', dims: [1, 4, 5, 6], k: 0.29 },
    ] as const;
    const runBytes = async (bytes: Uint8Array, feeds: Record<string, ort.Tensor>) => {
      const session = await ort.InferenceSession.create(bytes, { executionProviders: ['wasm'] });
      try {
        return await session.run(feeds);
      } finally {
        await session.release();
      }
    };
    for (const c of cases) {
      const count = 56;
      const size = c.dims.reduce((a: number, b) => a * b, 1);
      const a = new ort.Tensor('float32', smooth(size, c.k), [...c.dims]);
      // another picture: other content, offset and contrast, so other statistics
      const b = new ort.Tensor(
        'float32',
        smooth(size, c.k * 1.7).map((v) => 0.6 * v + 0.2),
        [...c.dims],
      );
      const feeds = (x: ort.Tensor, stats: Float32Array, mix: number) => ({
        [c.input]: x,
        gn_stats: new ort.Tensor('float32', stats, [count]),
        gn_use_given: new ort.Tensor('float32', new Float32Array([mix]), []),
      });
      const want = (await runBytes(plain[c.graph].bytes, { [c.input]: a }))[c.output]!
        .data as Float32Array;
      // mix 0 ignores the given statistics (here garbage), bit for bit the plain graph
      const junk = Float32Array.from({ length: count }, (_, i) => 3 + i);
      const own = await runBytes(synced[c.graph].bytes, feeds(a, junk, 0));
      expect(own[c.output]!.data).toEqual(want);
      const statsA = own['gn_stats_out']!.data as Float32Array;
      expect(statsA.length).toBe(count);
      // per layer [means | variances]: 4 groups each, variances positive
      for (let l = 0; l < count; l += 8)
        for (let g = 4; g < 8; g++) expect(statsA[l + g]!).toBeGreaterThan(0);
      // mix 1 with its own statistics: the same output to float precision
      const same = (await runBytes(synced[c.graph].bytes, feeds(a, statsA, 1)))[c.output]!
        .data as Float32Array;
      const d = same.reduce((m, v, i) => Math.max(m, Math.abs(v - want[i]!)), 0);
      // mix 1 with another picture's statistics: clearly another output
      const statsB = (await runBytes(synced[c.graph].bytes, feeds(b, junk, 0)))['gn_stats_out']!
        .data as Float32Array;
      const other = (await runBytes(synced[c.graph].bytes, feeds(a, statsB, 1)))[c.output]!
        .data as Float32Array;
      const e = other.reduce((m, v, i) => Math.max(m, Math.abs(v - want[i]!)), 0);
      console.log(
        `${c.graph}: mix 1 own stats max |d| ${d.toExponential(2)}, B's stats ${e.toFixed(3)}`,
      );
      expect(d).toBeLessThan(1e-4);
      expect(e).toBeGreaterThan(0.05);
    }
  });

  it('ships no SpyNet by default; the spynet variant adds only spynet.onnx and its manifest entry', async () => {
    expect(pack.files.has(SPYNET_PATH)).toBe(false);
    expect(dloralExtra(pack.manifest).spynet).toBeUndefined();
    const json: unknown = JSON.parse(
      new TextDecoder().decode(withSpynet.files.get('manifest.json')),
    );
    const manifest = parseManifest(json, 'tiny-dloral');
    const spynet = dloralExtra(manifest).spynet!;
    expect(spynet.path).toBe(SPYNET_PATH);
    expect(spynet.inputs.map((t) => [t.name, t.shape, t.range])).toEqual([
      ['current', [1, 3, 'h', 'w'], '-1,1'],
      ['previous', [1, 3, 'h', 'w'], '-1,1'],
    ]);
    expect(spynet.outputs.map((t) => [t.name, t.shape])).toEqual([['flow', [1, 2, 'h', 'w']]]);
    expect(spynet.weightBytes).toBeGreaterThan(0);
    const entry = manifest.files.find((f) => f.path === SPYNET_PATH)!;
    expect(entry.bytes).toBe(withSpynet.files.get(SPYNET_PATH)!.byteLength);
    // every other file is the default pack's, byte for byte
    const others = manifest.files.filter((f) => f.path !== SPYNET_PATH);
    expect(others).toEqual(pack.manifest.files);
    // deterministic, and the browser-side helper (WebCrypto sha256) builds the same pack
    const again = generateTinyDloral(TINY_DLORAL_SEED, { spynet: true });
    expect(again.manifest).toEqual(withSpynet.manifest);
    const added = await withTinySpynet(pack);
    expect(added.manifest).toEqual(withSpynet.manifest);
    expect(added.files.get('manifest.json')).toEqual(withSpynet.files.get('manifest.json'));
    // the memory plan counts its weights
    const limits = { maxBufferSize: 2 ** 30, maxStorageBufferBindingSize: 2 ** 30 };
    const size = { width: 16, height: 16 };
    expect(
      planDloralMemory(manifest, size, limits).weightBytes -
        planDloralMemory(pack.manifest, size, limits).weightBytes,
    ).toBe(spynet.weightBytes);
  });

  it('SpyNet runs on ORT wasm with the contract shapes: flows of a few tenths of a pixel', async () => {
    for (const [h, w] of [
      [8, 8],
      [9, 13],
    ] as const) {
      const dims = [1, 3, h, w];
      const a = smooth(3 * h * w, 0.21);
      const b = smooth(3 * h * w, 0.23);
      const flow = async (current: Float32Array, previous: Float32Array) => {
        const out = await run(
          SPYNET_PATH,
          {
            current: new ort.Tensor('float32', current, dims),
            previous: new ort.Tensor('float32', previous, dims),
          },
          withSpynet,
        );
        expect(out['flow']!.dims).toEqual([1, 2, h, w]);
        return out['flow']!.data as Float32Array;
      };
      const ab = await flow(a, b);
      const ba = await flow(b, a);
      expect(ab.every(Number.isFinite)).toBe(true);
      const meanAbs = ab.reduce((s, v) => s + Math.abs(v), 0) / ab.length;
      expect(meanAbs).toBeGreaterThan(0.1);
      expect(meanAbs).toBeLessThan(1.5);
      expect(Math.max(...ab.map(Math.abs))).toBeLessThan(4);
      // the two inputs play different roles (not a symmetric function of the pair)
      expect(ab.reduce((m, v, i) => Math.max(m, Math.abs(v - ba[i]!)), 0)).toBeGreaterThan(0.05);
    }
  });
});
