import { beforeEach, describe, expect, it, vi } from 'vitest';
import type { SourceSummary } from '../worker/protocol.ts';
import { updateSlice, resetStore, useStore } from './store.ts';

/**
 * The worker's `encode.scale`, as Chromium here answers it: H.264 up to level 5.2 (36 864
 * macroblocks, 4096x2304), VP9 up to 8192 on a side, AV1 never (a browser without an AV1
 * encoder). Each call may be held back to test answers that arrive late.
 */
const encoder = vi.hoisted(() => ({
  calls: [] as { codec: string; width: number; height: number; scales: number[] }[],
  hold: null as Promise<void> | null,
  broken: false,
}));

vi.mock('../worker/client.ts', () => ({
  jobWorker: () => ({
    async call(
      method: string,
      input: { codec: string; width: number; height: number; scales: number[] },
    ) {
      if (method !== 'encode.scale') throw new Error(`unexpected call ${method}`);
      encoder.calls.push(input);
      if (encoder.hold) await encoder.hold;
      if (encoder.broken) throw new Error('encoder gone');
      const fits = (w: number, h: number) =>
        input.codec === 'avc'
          ? Math.ceil(w / 16) * Math.ceil(h / 16) <= 36864
          : input.codec === 'vp9'
            ? Math.max(w, h) <= 8192
            : false;
      const scale = input.scales.find((s) => fits(input.width * s, input.height * s)) ?? null;
      return { scale };
    },
  }),
}));

const { checkScaleFit, chooseCodec, chooseScale, loweredNote, misfitNote } =
  await import('./scale-fit.ts');

function open(width: number, height: number, decodable = true): void {
  const summary = {
    decodable,
    video: { width, height, averageFps: 30 },
  } as unknown as SourceSummary;
  updateSlice('source', { summary });
}

const note = () => useStore.getState().settings.scaleNote;
const scale = () => useStore.getState().settings.scale;

describe('scale and codec against the encoder', () => {
  beforeEach(() => {
    resetStore();
    encoder.calls.length = 0;
    encoder.hold = null;
    encoder.broken = false;
  });

  it('says what is too large and what would work, in words', () => {
    const m = { scale: 4, codec: 'avc', width: 1280, height: 720 } as const;
    expect(loweredNote({ ...m, lowerFits: true, others: ['vp9', 'av1'] })).toEqual({
      kind: 'lowered',
      text: "2× for this clip: at 4× it would be 5120×2880, more than this browser's H.264 encoder takes. With VP9 or AV1 output it can be 4×.",
    });
    expect(loweredNote({ ...m, lowerFits: true, others: [] }).text).toBe(
      "2× for this clip: at 4× it would be 5120×2880, more than this browser's H.264 encoder takes.",
    );
    expect(misfitNote({ ...m, lowerFits: true, others: ['vp9'] })).toEqual({
      kind: 'misfit',
      text: "At 4× this clip would be 5120×2880, more than this browser's H.264 encoder takes: choose 2×, or VP9 output.",
    });
    expect(misfitNote({ ...m, lowerFits: false, others: ['vp9'] }).text).toMatch(
      /takes: choose VP9 output\.$/,
    );
    expect(misfitNote({ ...m, scale: 2, lowerFits: false, others: [] }).text).toBe(
      "At 2× this clip would be 2560×1440, more than this browser's H.264 encoder takes: no output codec here takes it, so the render would fail.",
    );
  });

  it('a 720p clip opened at 4x goes to 2x with its reason; 4x chosen again is warned about', async () => {
    open(1280, 720);
    await checkScaleFit({ mayLower: true });
    expect(scale()).toBe(2);
    expect(note()).toEqual({
      kind: 'lowered',
      text: "2× for this clip: at 4× it would be 5120×2880, more than this browser's H.264 encoder takes. With VP9 output it can be 4×.",
    });
    // the person's own choice stands, with a warning that names the ways out
    await chooseScale(4);
    expect(scale()).toBe(4);
    expect(note()?.kind).toBe('misfit');
    expect(note()?.text).toMatch(
      /^At 4× this clip would be 5120×2880.*choose 2×, or VP9 output\.$/,
    );
    // VP9 takes it: nothing to say
    await chooseCodec('vp9');
    expect([scale(), note()]).toEqual([4, null]);
    // AV1 here takes nothing, and VP9 is named as the codec that does
    await chooseCodec('av1');
    expect(note()?.text).toBe(
      "At 4× this clip would be 5120×2880, more than this browser's AV1 encoder takes: choose VP9 output.",
    );
  });

  it('a clip that fits asks once and changes nothing', async () => {
    open(640, 360);
    await checkScaleFit({ mayLower: true });
    expect([scale(), note()]).toEqual([4, null]);
    expect(encoder.calls).toEqual([
      { codec: 'avc', width: 640, height: 360, fps: 30, scales: [4] },
    ]);
  });

  it('is never lowered on a choice the person made, and 4K at 2x is warned about at open', async () => {
    open(1280, 720);
    await chooseScale(4);
    expect([scale(), note()?.kind]).toEqual([4, 'misfit']);
    resetStore();
    updateSlice('settings', { scale: 2 });
    open(3840, 2160);
    await checkScaleFit({ mayLower: true });
    expect(scale()).toBe(2);
    expect(note()?.text).toBe(
      "At 2× this clip would be 7680×4320, more than this browser's H.264 encoder takes: choose VP9 output.",
    );
  });

  it('only the newest answer is shown: a late answer about an old choice is dropped', async () => {
    open(1280, 720);
    updateSlice('settings', { scale: 2 });
    let release = () => {};
    encoder.hold = new Promise<void>((resolve) => (release = resolve));
    const first = chooseScale(4); // H.264 at 4x: does not fit, answer held back
    const second = chooseCodec('vp9'); // VP9 at 4x: fits
    release();
    await Promise.all([first, second]);
    expect([scale(), useStore.getState().settings.codec, note()]).toEqual([4, 'vp9', null]);
  });

  it('an encoder that cannot be asked, or a clip that cannot be decoded, changes nothing', async () => {
    open(1280, 720);
    encoder.broken = true;
    await checkScaleFit({ mayLower: true });
    expect([scale(), note()]).toEqual([4, null]);
    encoder.broken = false;
    encoder.calls.length = 0;
    open(1280, 720, false);
    await checkScaleFit({ mayLower: true });
    expect(encoder.calls).toEqual([]);
    expect([scale(), note()]).toEqual([4, null]);
  });
});
