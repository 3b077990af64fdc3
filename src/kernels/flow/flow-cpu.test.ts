import { describe, expect, it } from 'vitest';
import { mulberry32 } from '../../shared/random.ts';
import { FlowCpu } from './flow-cpu.ts';
import { flowRef } from './flow.ref.ts';

/** Frame n of a clip panning by (1.3, -0.7) px per frame over random sinusoids, planar RGB. */
function clip(w: number, h: number, frames: number, seed: number): Float32Array[] {
  const rand = mulberry32(seed);
  const waves = Array.from({ length: 16 }, () => ({
    kx: (rand() - 0.5) * 1.2,
    ky: (rand() - 0.5) * 1.2,
    phase: rand() * 6.3,
    channel: Math.floor(rand() * 3),
  }));
  return Array.from({ length: frames }, (_, n) => {
    const out = new Float32Array(3 * w * h);
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        for (const wave of waves) {
          const v = Math.sin(wave.kx * (x + 1.3 * n) + wave.ky * (y - 0.7 * n) + wave.phase);
          out[wave.channel * w * h + y * w + x]! += 0.5 + v / 8;
        }
      }
    }
    return out;
  });
}

describe('FlowCpu (pooled streaming flowRef)', () => {
  const options = { width: 37, height: 29, channels: 3 } as const;

  it('gives exactly flowRef(frame n, frame n - 1) for every frame of a clip', () => {
    const frames = clip(options.width, options.height, 5, 11);
    const flow = new FlowCpu(options);
    expect(flow.next(frames[0]!)).toBeNull();
    let last: Float32Array | null = null;
    for (let n = 1; n < frames.length; n++) {
      const got = flow.next(frames[n]!);
      const want = flowRef(frames[n]!, frames[n - 1]!, options);
      expect(got).not.toBeNull();
      expect(Array.from(got!)).toEqual(Array.from(want));
      // the clip moves, so a stale pyramid or a zero flow would differ
      expect(Math.abs(want[0]!) + Math.abs(want[options.width * options.height]!)).toBeGreaterThan(
        0.1,
      );
      // buffers are reused, not reallocated
      if (last) expect(got).toBe(last);
      last = got;
    }
  });

  it('starts over after reset, and records a frame without computing when asked', () => {
    const frames = clip(options.width, options.height, 4, 12);
    const flow = new FlowCpu(options);
    flow.next(frames[0]!);
    flow.next(frames[1]!);
    flow.reset();
    expect(flow.next(frames[2]!)).toBeNull();
    expect(flow.next(frames[3]!, false)).toBeNull();
    const got = flow.next(frames[1]!);
    expect(Array.from(got!)).toEqual(Array.from(flowRef(frames[1]!, frames[3]!, options)));
  });
});
