import { describe, expect, it } from 'vitest';
import { PartSize } from './part-size.ts';

/** A part that gets a 1000-byte header, then a 48-frame fragment of 48 000 bytes when frame
 * 48 * k + 3 is done (the encoder runs 3 frames behind the muxer). */
function partBytesAfter(frames: number): number {
  const fragments = Math.max(0, Math.floor((frames - 3) / 48));
  return 1000 + 48_000 * fragments;
}

describe('PartSize', () => {
  it('says nothing until a fragment lands, then the size at the rate of whole fragments', () => {
    const size = new PartSize();
    const total = 480;
    const seen: (ReturnType<PartSize['observe']>['size'] | undefined)[] = [];
    for (let f = 1; f <= 200; f++) {
      seen[f] = size.observe(
        { framesDone: f, framesTotal: total, framesThisRun: f },
        partBytesAfter(f),
      ).size;
    }
    // the header alone says nothing about the frames
    for (let f = 1; f < 51; f++) expect(seen[f]).toBeUndefined();
    // 48 000 bytes over the 50 frames between the first size seen and the fragment
    expect(seen[51]!.outputBytes).toBe(Math.round((48_000 / 50) * total));
    // over two fragments the encoder's lag counts once: closer to the true 1000 bytes a frame
    const later = seen[200]!;
    expect(Math.abs(later.outputBytes - 1000 * total)).toBeLessThan(
      Math.abs(seen[51]!.outputBytes - 1000 * total),
    );
    // four fragments landed by frame 200 (at 51, 99, 147, 195)
    expect(later.outputBytes).toBe(Math.round(((4 * 48_000) / (195 - 1)) * total));
    // the rest of the part (280 frames) plus the whole file again
    const perFrame = (4 * 48_000) / 194;
    expect(later.bytesNeeded).toBe(Math.round(perFrame * 280) + Math.round(perFrame * total));
  });

  it('counts the frames of a continued render from where this part started', () => {
    const size = new PartSize();
    // the render continues at frame 300 of 480: this part's frames give the rate
    let last = { outputBytes: 0, bytesNeeded: 0 };
    for (let f = 1; f <= 110; f++) {
      last =
        size.observe({ framesDone: 300 + f, framesTotal: 480, framesThisRun: f }, partBytesAfter(f))
          .size ?? last;
    }
    const perFrame = (2 * 48_000) / (99 - 1);
    expect(last.outputBytes).toBe(Math.round(perFrame * 480));
    expect(last.bytesNeeded).toBe(Math.round(perFrame * 70) + Math.round(perFrame * 480));
  });
});
