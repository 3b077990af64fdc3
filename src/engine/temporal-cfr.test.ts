import { describe, expect, it } from 'vitest';
import { cfrRef } from '../kernels/cfr-attention/cfr-attention.ref.ts';
import { randomCfrWeights } from '../kernels/cfr-attention/cfr-weights.ts';
import { temporalFeaturesRef } from '../kernels/temporal-features/temporal-features.ref.ts';
import { mulberry32, randomFloats } from '../shared/random.ts';
import { alignedCfr, TEMPORAL_CFR, temporalCfrWeights, TemporalFusionCpu } from './temporal-cfr.ts';

describe('training-free temporal CFR', () => {
  it('alignedCfr is exactly cfrRef with top-1 and radius 0', () => {
    const [w, h] = [9, 7];
    const weights = randomCfrWeights({ inChannels: 6, heads: 2, headDim: 4, temperature: 0.5 }, 3);
    const current = randomFloats(6 * w * h, 1, -1, 1);
    const reference = randomFloats(6 * w * h, 2, -1, 1);
    const ref = cfrRef(current, reference, weights, {
      width: w,
      height: h,
      temperature: 0.5,
      topK: 1,
      radius: 0,
    });
    const fast = alignedCfr(current, reference, weights, w * h);
    expect(Array.from(fast)).toEqual(Array.from(ref));
    // and the attention really contributed somewhere
    expect(fast.some((v, i) => Math.abs(v - current[i]!) > 1e-3)).toBe(true);
  });

  it('blends by strength * (1 - (|c - r|^2 + slope * D + penalty * invalid) / margin)', () => {
    const { margin, slope, strength, penalty } = TEMPORAL_CFR;
    const [w, h] = [6, 5];
    const plane = w * h;
    const rand = mulberry32(9);
    const current = new Float32Array(3 * plane);
    const reference = new Float32Array(4 * plane);
    for (let i = 0; i < plane; i++) {
      const x = i % w;
      // columns: 0-1 flat and close, 2 flat and far, 3 invalid, 4-5 a sharp edge
      const base = x >= 5 ? 0.9 : 0.3;
      const delta = x === 2 ? 0.08 : 0.02 * (rand() - 0.5);
      for (let c = 0; c < 3; c++) {
        current[c * plane + i] = base + 0.01 * c;
        reference[c * plane + i] = base + 0.01 * c + delta;
      }
      reference[3 * plane + i] = x === 3 ? 0 : 1;
    }
    const features = temporalFeaturesRef(current, reference, { width: w, height: h, penalty });
    const fused = alignedCfr(features.current, features.reference, temporalCfrWeights(), plane);
    for (let i = 0; i < plane; i++) {
      let dist = 0;
      for (let c = 0; c < 3; c++)
        dist += (reference[c * plane + i]! - current[c * plane + i]!) ** 2;
      const detail = features.current[5 * plane + i]!;
      const invalid = 1 - reference[3 * plane + i]!;
      const weight =
        strength * Math.max(0, 1 - (dist + slope * detail + penalty * invalid) / margin);
      for (let c = 0; c < 3; c++) {
        const [cv, rv] = [current[c * plane + i]!, reference[c * plane + i]!];
        expect(fused[c * plane + i]).toBeCloseTo(cv + weight * (rv - cv), 5);
      }
      const x = i % w;
      if (x <= 1) expect(weight).toBeGreaterThan(0.3);
      else expect(weight).toBe(0);
    }
  });

  it('on a still, noisy clip the fused frames are closer to the clean picture than the input', () => {
    const [w, h] = [32, 24];
    const plane = w * h;
    const clean = new Uint8Array(plane * 4);
    for (let i = 0; i < plane; i++) {
      const x = i % w;
      const y = Math.floor(i / w);
      clean.set([60 + 3 * x, 80 + 2 * y, 120, 255], i * 4);
    }
    const fusion = new TemporalFusionCpu(w, h);
    const rand = mulberry32(5);
    let inputError = 0;
    let fusedError = 0;
    for (let n = 0; n < 6; n++) {
      const noisy = clean.slice();
      for (let i = 0; i < plane * 4; i++)
        if (i % 4 !== 3) noisy[i] = Math.round(clean[i]! + 6 * (rand() + rand() + rand() - 1.5));
      const fused = fusion.process(noisy);
      if (n < 3) continue; // let the recursive filter settle
      for (let i = 0; i < plane * 4; i++) {
        if (i % 4 === 3) continue;
        inputError += (noisy[i]! - clean[i]!) ** 2;
        fusedError += (fused[i]! - clean[i]!) ** 2;
      }
    }
    expect(fusedError).toBeLessThan(0.75 * inputError);
  });

  it('frame 0 and a cut pass through unchanged, and a reset forgets the previous frame', () => {
    const [w, h] = [16, 12];
    const frame = (seed: number) => {
      const rgba = new Uint8Array(w * h * 4);
      const rand = mulberry32(seed);
      for (let i = 0; i < rgba.length; i++) rgba[i] = i % 4 === 3 ? 255 : Math.floor(256 * rand());
      return rgba;
    };
    const fusion = new TemporalFusionCpu(w, h);
    const a = frame(1);
    const b = frame(2);
    expect(Array.from(fusion.process(a))).toEqual(Array.from(a));
    // a different random picture: every pixel is far from the warped previous one
    const cut = fusion.process(b);
    let changed = 0;
    for (let i = 0; i < cut.length; i++) if (cut[i] !== b[i]) changed++;
    expect(changed).toBeLessThan(cut.length / 100);
    fusion.reset();
    expect(Array.from(fusion.process(a))).toEqual(Array.from(a));
  });
});
