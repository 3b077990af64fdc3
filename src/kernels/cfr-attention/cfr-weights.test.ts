import { describe, expect, it } from 'vitest';
import { UpframeError } from '../../shared/errors.ts';
import {
  CFR_TENSOR_NAMES,
  cfrWeightLayout,
  packCfrWeights,
  parseCfrPack,
  randomCfrWeights,
  writeCfrPack,
  type CfrConfig,
} from './cfr-weights.ts';

const DLORAL: CfrConfig = { inChannels: 4, heads: 9, headDim: 64, temperature: 3000 };

function pack() {
  const weights = randomCfrWeights(DLORAL, 17);
  const { json, bin } = writeCfrPack(weights);
  return { weights, json: JSON.parse(json) as Record<string, unknown>, bin };
}

function tensorsOf(
  json: Record<string, unknown>,
): Record<string, { offset: number; shape: number[] }> {
  return json['tensors'] as Record<string, { offset: number; shape: number[] }>;
}

function expectLoadError(fn: () => unknown, pattern: RegExp): void {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(UpframeError);
    expect((err as UpframeError).code).toBe('MODEL_LOAD_FAILED');
    expect((err as UpframeError).message).toMatch(pattern);
    return;
  }
  throw new Error('expected a MODEL_LOAD_FAILED error');
}

describe('CFR weight pack', () => {
  it('writes the documented layout: DLoRAL sizes, byte offsets, little-endian float32', () => {
    const { weights, json, bin } = pack();
    expect(json['format']).toBe('upframe-cfr-1');
    expect(json['dtype']).toBe('float32');
    expect([json['inChannels'], json['heads'], json['headDim'], json['temperature']]).toEqual([
      4, 9, 64, 3000,
    ]);
    const tensors = tensorsOf(json);
    expect(Object.keys(tensors)).toEqual([...CFR_TENSOR_NAMES]);
    expect(tensors['q.weight']).toEqual({ offset: 0, shape: [576, 4] });
    expect(tensors['q.bias']).toEqual({ offset: 576 * 4 * 4, shape: [576] });
    expect(tensors['tau.weight']!.shape).toEqual([1, 64]);
    expect(tensors['tau.bias']!.shape).toEqual([1]);
    expect(tensors['out.weight']!.shape).toEqual([4, 576]);
    expect(tensors['out.bias']).toEqual({ offset: bin.byteLength - 16, shape: [4] });
    // 3 * (576 * 4 + 576) + 64 + 1 + 4 * 576 + 4 = 11013 parameters ("CFR 11 k")
    expect(bin.byteLength).toBe(11013 * 4);
    const view = new DataView(bin.buffer);
    const vb = tensorsOf(json)['v.bias']!.offset;
    expect(view.getFloat32(vb + 8, true)).toBe(weights.tensors['v.bias'][2]);
  });

  it('round-trips through parse, also from text and with offsets out of the canonical order', () => {
    const { weights, json, bin } = pack();
    const parsed = parseCfrPack(JSON.stringify(json), bin.buffer);
    expect(parsed.config).toEqual(DLORAL);
    for (const name of CFR_TENSOR_NAMES) {
      expect(Array.from(parsed.tensors[name])).toEqual(Array.from(weights.tensors[name]));
    }
    // another writer may order tensors differently and leave gaps: offsets are what count
    const packed = packCfrWeights(weights);
    const { offsets } = cfrWeightLayout(DLORAL);
    const shuffled = new Uint8Array(bin.byteLength + 64);
    const view = new DataView(shuffled.buffer);
    const tensors: Record<string, { offset: number; shape: number[] }> = {};
    let at = 32;
    for (const name of [...CFR_TENSOR_NAMES].reverse()) {
      const values = weights.tensors[name];
      values.forEach((v, i) => view.setFloat32(at + i * 4, v, true));
      tensors[name] = { ...tensorsOf(json)[name]!, offset: at };
      at += values.length * 4;
    }
    const reparsed = parseCfrPack({ ...json, tensors }, shuffled);
    expect(Array.from(packCfrWeights(reparsed))).toEqual(Array.from(packed));
    expect(offsets['out.bias']).toBe(packed.length - 4);
  });

  it('names the bad tensor or field', () => {
    const { json, bin } = pack();
    const withTensor = (name: string, entry: unknown) => ({
      ...json,
      tensors: { ...tensorsOf(json), [name]: entry },
    });
    expectLoadError(
      () => parseCfrPack(withTensor('k.weight', { offset: 0, shape: [576, 3] }), bin),
      /"k\.weight" has shape \[576,3\], expected \[576,4\]/,
    );
    const missing = { ...tensorsOf(json) };
    delete missing['tau.bias'];
    expectLoadError(
      () => parseCfrPack({ ...json, tensors: missing }, bin),
      /"tau\.bias" is missing/,
    );
    expectLoadError(
      () => parseCfrPack(withTensor('q.weights', { offset: 0, shape: [1] }), bin),
      /unknown tensor "q\.weights"/,
    );
    expectLoadError(
      () => parseCfrPack(withTensor('v.bias', { offset: 6, shape: [576] }), bin),
      /"v\.bias" has offset 6/,
    );
    expectLoadError(
      () => parseCfrPack(json, bin.subarray(0, bin.byteLength - 4)),
      /"out\.bias" needs bytes 44036\.\.44052 but cfr\.bin has 44048/,
    );
    const nan = bin.slice();
    new DataView(nan.buffer).setFloat32(tensorsOf(json)['out.weight']!.offset + 12, NaN, true);
    expectLoadError(
      () => parseCfrPack(json, nan),
      /"out\.weight" holds a non-finite value at index 3/,
    );
    expectLoadError(() => parseCfrPack({ ...json, format: 'upframe-cfr-2' }, bin), /"format"/);
    expectLoadError(() => parseCfrPack({ ...json, dtype: 'float16' }, bin), /"dtype"/);
    expectLoadError(() => parseCfrPack({ ...json, heads: 0 }, bin), /"heads"/);
    expectLoadError(() => parseCfrPack({ ...json, temperature: -1 }, bin), /"temperature"/);
    expectLoadError(() => parseCfrPack('{not json', bin), /not valid JSON/);
  });

  it('refuses to write tensors of the wrong length', () => {
    const weights = randomCfrWeights(DLORAL, 2);
    const bad = { ...weights, tensors: { ...weights.tensors, 'tau.weight': new Float32Array(63) } };
    expect(() => writeCfrPack(bad)).toThrow(/"tau\.weight" has 63 values, expected 64/);
  });
});
