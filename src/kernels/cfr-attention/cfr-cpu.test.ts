import { describe, expect, it } from 'vitest';
import { UpframeError } from '../../shared/errors.ts';
import { randomFloats } from '../../shared/random.ts';
import { cfrRef } from './cfr-attention.ref.ts';
import { CfrCpu } from './cfr-cpu.ts';
import { randomCfrWeights, type CfrConfig } from './cfr-weights.ts';

const CONFIG: CfrConfig = { inChannels: 16, heads: 2, headDim: 8, temperature: 4 };

function inputs(w: number, h: number, seed: number, coarse: boolean) {
  const n = CONFIG.inChannels * w * h;
  // coarse: values on a grid of 1/2 and weights on a grid of 1/4, so many keys tie on sim
  const snap = (a: Float32Array<ArrayBuffer>, step: number) =>
    coarse ? a.map((x) => Math.round(x / step) * step) : a;
  const weights = randomCfrWeights(CONFIG, seed);
  if (coarse) {
    for (const t of Object.values(weights.tensors)) t.set(snap(t, 0.25));
  }
  return {
    weights,
    current: snap(randomFloats(n, seed + 1, -1, 1), 0.5),
    reference: snap(randomFloats(n, seed + 2, -1, 1), 0.5),
  };
}

describe('CfrCpu (pooled windowed top-k CFR)', () => {
  const cases = [
    { w: 13, h: 9, radius: 2, topK: 8 as const, coarse: false },
    { w: 13, h: 9, radius: 2, topK: 8 as const, coarse: true },
    { w: 7, h: 11, radius: 1, topK: 'all' as const, coarse: false },
    { w: 10, h: 6, radius: 3, topK: 5 as const, coarse: true },
    { w: 5, h: 4, radius: 0, topK: 1 as const, coarse: false },
  ];
  for (const [i, c] of cases.entries()) {
    it(`equals cfrRef bit for bit: ${c.w}x${c.h}, radius ${c.radius}, top-${c.topK}${c.coarse ? ', tied sims' : ''}`, () => {
      const { weights, current, reference } = inputs(c.w, c.h, 40 + i, c.coarse);
      const params = {
        width: c.w,
        height: c.h,
        temperature: CONFIG.temperature,
        topK: c.topK,
        radius: c.radius,
      };
      const cpu = new CfrCpu(weights, params);
      const want = cfrRef(current, reference, weights, params);
      const got = cpu.run(current, reference);
      expect(Array.from(got)).toEqual(Array.from(want));
      // the attention moved the result away from `current` (a wrong selection would show)
      let moved = 0;
      for (let j = 0; j < want.length; j++)
        moved = Math.max(moved, Math.abs(want[j]! - current[j]!));
      expect(moved).toBeGreaterThan(1e-3);
      // a second frame reuses the buffers and still matches
      const again = cpu.run(reference, current);
      expect(again).toBe(got);
      expect(Array.from(again)).toEqual(Array.from(cfrRef(reference, current, weights, params)));
    });
  }

  it('rejects a negative or fractional radius with a clear error', () => {
    const { weights } = inputs(4, 4, 1, false);
    const params = { width: 4, height: 4, temperature: 4, topK: 2 };
    expect(() => new CfrCpu(weights, { ...params, radius: -1 })).toThrow(UpframeError);
    expect(() => new CfrCpu(weights, { ...params, radius: 1.5 })).toThrow(/radius/);
  });
});
