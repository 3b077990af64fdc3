/**
 * The committed Upframe-lite packs (x4 in pack/, x2 in pack-x2/): each manifest passes parseManifest, every file matches its
 * sha256, cfr.json/cfr.bin pass the kernel's loader, and the ONNX graphs run on ORT's wasm
 * backend. models/lite/reference.{json,bin} (x2: reference-x2.*) hold one small held-out input and every intermediate
 * PyTorch computed (export.py); each step is checked against it, and the CFR and warp steps are
 * recomputed with the kernels' CPU references, so the PyTorch CFR the model was trained with is
 * the one our WGSL kernel implements.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-web';
import { describe, expect, it } from 'vitest';
import { parseManifest, verifyFile } from '../../src/engine/manifest.ts';
import { cfrRef } from '../../src/kernels/cfr-attention/cfr-attention.ref.ts';
import { parseCfrPack } from '../../src/kernels/cfr-attention/cfr-weights.ts';
import { warpRef } from '../../src/kernels/warp/warp.ref.ts';

ort.env.wasm.numThreads = 1;

const here = (p: string): string => fileURLToPath(new URL(p, import.meta.url));
const read = (p: string): Uint8Array<ArrayBuffer> => new Uint8Array(readFileSync(here(p)));
const exact = (bytes: Uint8Array<ArrayBuffer>): ArrayBuffer =>
  bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);

interface RefTensor {
  readonly offset: number;
  readonly shape: readonly number[];
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

function checkPack(pack: string, reference: string, scale: number): void {
  const manifest = parseManifest(
    JSON.parse(readFileSync(here(`${pack}/manifest.json`), 'utf8')),
    'lite',
  );
  const extra = manifest.extra ?? {};
  const cfrExtra = extra['cfr'] as {
    topK: number;
    radius: number;
    temperature: number;
    reference?: 'features' | 'fused';
  };
  /** Recurrent packs warp frame n-1's fused features instead of its encoder features. */
  const recurrent = cfrExtra.reference === 'fused';

  const refJson = JSON.parse(readFileSync(here(`${reference}.json`), 'utf8')) as {
    width: number;
    height: number;
    tensors: Record<string, RefTensor>;
  };
  const refBin = read(`${reference}.bin`);
  function ref(name: string): { data: Float32Array<ArrayBuffer>; shape: readonly number[] } {
    const t = refJson.tensors[name];
    if (!t) throw new Error(`${reference}.json lacks ${name}`);
    const n = t.shape.reduce((a, b) => a * b, 1);
    const data = new Float32Array(exact(refBin.subarray(t.offset, t.offset + n * 4)));
    return { data, shape: t.shape };
  }
  const W = refJson.width;
  const H = refJson.height;

  async function session(file: string): Promise<ort.InferenceSession> {
    return ort.InferenceSession.create(read(`${pack}/${file}`), { executionProviders: ['wasm'] });
  }

  async function runEncoder(lq: Float32Array<ArrayBuffer>): Promise<Float32Array> {
    const s = await session('encoder.onnx');
    const out = await s.run({ lq: new ort.Tensor('float32', lq, [1, 3, H, W]) });
    const features = out['features'];
    if (!features) throw new Error('encoder.onnx has no output "features"');
    expect(features.dims).toEqual([1, cfrWeights().config.inChannels, H, W]);
    return features.data as Float32Array;
  }

  async function runGenerator(
    fused: Float32Array<ArrayBuffer>,
    lq: Float32Array<ArrayBuffer>,
  ): Promise<Float32Array> {
    const c = cfrWeights().config.inChannels;
    const s = await session('generator.onnx');
    const out = await s.run({
      fused: new ort.Tensor('float32', fused, [1, c, H, W]),
      lq: new ort.Tensor('float32', lq, [1, 3, H, W]),
    });
    const hr = out['hr'];
    if (!hr) throw new Error('generator.onnx has no output "hr"');
    expect(hr.dims).toEqual([1, 3, H * scale, W * scale]);
    return hr.data as Float32Array;
  }

  function cfrWeights() {
    return parseCfrPack(readFileSync(here(`${pack}/cfr.json`), 'utf8'), read(`${pack}/cfr.bin`));
  }

  const cfrParams = () => ({
    width: W,
    height: H,
    temperature: cfrWeights().config.temperature,
    topK: cfrExtra.topK,
    radius: cfrExtra.radius,
  });

  describe(`upframe-lite x${scale} pack (${pack}/)`, () => {
    it('has a valid lite manifest whose files match their sha256', async () => {
      expect(manifest.kind).toBe('lite');
      expect(manifest.scale).toBe(scale);
      expect(manifest.files.map((f) => f.path).sort()).toEqual(
        ['cfr.bin', 'cfr.json', 'encoder.onnx', 'generator.onnx'].sort(),
      );
      for (const file of manifest.files) {
        await verifyFile(exact(read(`${pack}/${file.path}`)), file);
      }
      const data = extra['trainingData'] as { photos: { licence: string }[] };
      expect(data.photos.length).toBeGreaterThan(0);
      // Creative Commons (lomiri-wallpapers), or SciPy's BSD / public domain (data.py --extra-photos)
      for (const p of data.photos) expect(p.licence).toMatch(/^(CC|BSD-3-Clause|public domain)/);
      expect(manifest.cost?.params).toBeLessThan(1_000_000);
    });

    it('cfr.json passes the kernel loader and agrees with the manifest', () => {
      const weights = cfrWeights();
      const json = JSON.parse(readFileSync(here(`${pack}/cfr.json`), 'utf8')) as Record<
        string,
        unknown
      >;
      expect(json['topK']).toBe(cfrExtra.topK);
      expect(json['radius']).toBe(cfrExtra.radius);
      expect(json['reference'] ?? 'features').toBe(cfrExtra.reference ?? 'features');
      expect(weights.config.temperature).toBe(cfrExtra.temperature);
    });

    it('encoder.onnx reproduces PyTorch on the reference frame', async () => {
      const features = await runEncoder(ref('lq').data);
      expect(maxAbsDiff(features, ref('features').data)).toBeLessThan(1e-4);
    });

    it('the warp kernel reference reproduces the PyTorch warp of the previous features', () => {
      const c = cfrWeights().config.inChannels;
      const previous = recurrent ? ref('fusedPrevious') : ref('featuresPrevious');
      const warped = warpRef(previous.data, ref('flow').data, {
        width: W,
        height: H,
        channels: c,
      });
      expect(maxAbsDiff(warped, ref('warpedReference').data)).toBeLessThan(1e-4);
    });

    it('the cfr-attention kernel reference reproduces the PyTorch CFR the model was trained with', () => {
      const fused = cfrRef(
        ref('features').data,
        ref('warpedReference').data,
        cfrWeights(),
        cfrParams(),
      );
      // and the CFR does something: fused differs from its input
      expect(maxAbsDiff(fused, ref('features').data)).toBeGreaterThan(1e-3);
      expect(maxAbsDiff(fused, ref('fused').data)).toBeLessThan(1e-4);
    });

    it('generator.onnx reproduces PyTorch on the reference fused features', async () => {
      const hr = await runGenerator(ref('fused').data, ref('lq').data);
      expect(maxAbsDiff(hr, ref('hr').data)).toBeLessThan(1e-4);
    });

    it('the whole chain (ORT encoder, warp and CFR references, ORT generator) matches PyTorch', async () => {
      const c = cfrWeights().config.inChannels;
      const featuresPrevious = await runEncoder(ref('lqPrevious').data);
      // frame 0 is its own reference; a recurrent pack keeps what its CFR gave for it
      const previous = recurrent
        ? cfrRef(featuresPrevious, featuresPrevious, cfrWeights(), cfrParams())
        : featuresPrevious;
      if (recurrent) expect(maxAbsDiff(previous, ref('fusedPrevious').data)).toBeLessThan(1e-4);
      const current = await runEncoder(ref('lq').data);
      const warped = warpRef(previous, ref('flow').data, { width: W, height: H, channels: c });
      const fused = cfrRef(current, warped, cfrWeights(), cfrParams());
      const hr = await runGenerator(fused, ref('lq').data);
      expect(maxAbsDiff(hr, ref('hr').data)).toBeLessThan(1e-3);
    });
  });
}

checkPack('pack', 'reference', 4);
checkPack('pack-x2', 'reference-x2', 2);
