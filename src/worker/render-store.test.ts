import { describe, expect, it } from 'vitest';
import { DEFAULT_SETTINGS } from './settings.ts';
import { continuation, stateOf, summarize, type RenderJournal } from './render-store.ts';

const journal = (parts: RenderJournal['parts']): RenderJournal => ({
  version: 1,
  id: 'r1',
  createdAt: 1,
  source: { name: 'clip.mp4', size: 1000, lastModified: 5 },
  settings: DEFAULT_SETTINGS,
  outputName: 'clip.upframe-x4.mp4',
  range: { start: 10, end: 250 },
  parts,
});

const part = (name: string, startFrame: number, frames: number | null, audioEndS = null) => ({
  name,
  startFrame,
  frames,
  audioEndS,
});

describe('stopped renders', () => {
  it('counts a continued part as the journal fixed it, the last part as its file holds it', () => {
    const j = journal([
      { ...part('part-1.mp4', 10, 96), audioEndS: 4.4 },
      part('part-2.mp4', 106, null),
    ]);
    // part 1's file holds a little more than was kept when it was continued
    const state = stateOf(j, [
      { bytes: 900, frames: 100, audioEndS: 4.6 },
      { bytes: 500, frames: 48, audioEndS: 6.4 },
    ]);
    expect(state.framesDone).toBe(96 + 48);
    expect(state.nextFrame).toBe(106 + 48);
    expect(state.audioEndS).toBe(6.4);
    expect(state.bytes).toBe(1400);
    expect(summarize(state)).toMatchObject({
      framesDone: 144,
      framesTotal: 240,
      canContinue: true,
      sourceName: 'clip.mp4',
    });
  });

  it('continues from the first missing frame into a new part, its audio where the kept audio ends', () => {
    const j = journal([part('part-1.mp4', 10, null)]);
    const { journal: next, next: plan } = continuation(
      stateOf(j, [{ bytes: 900, frames: 96, audioEndS: 4.02 }]),
    );
    expect(plan).toEqual({ part: 'part-2.mp4', resumeAt: 106, resumeAudioAtUs: 4.02e6 });
    expect(next.parts).toEqual([
      { name: 'part-1.mp4', startFrame: 10, frames: 96, audioEndS: 4.02 },
      { name: 'part-2.mp4', startFrame: 106, frames: null, audioEndS: null },
    ]);
    expect(next.range).toEqual(j.range);
  });

  it('a continuation that kept nothing is continued from where it started', () => {
    const j = journal([
      { ...part('part-1.mp4', 10, 96), audioEndS: 4.02 },
      part('part-2.mp4', 106, null),
    ]);
    const { journal: next, next: plan } = continuation(
      stateOf(j, [
        { bytes: 900, frames: 96, audioEndS: 4.02 },
        { bytes: 0, frames: 0, audioEndS: null },
      ]),
    );
    // the audio resumes where part 1's ends, not at zero
    expect(plan).toEqual({ part: 'part-3.mp4', resumeAt: 106, resumeAudioAtUs: 4.02e6 });
    expect(next.parts.map((p) => [p.name, p.startFrame, p.frames])).toEqual([
      ['part-1.mp4', 10, 96],
      ['part-2.mp4', 106, 0],
      ['part-3.mp4', 106, null],
    ]);
  });

  it('with every frame kept only the join is left', () => {
    const j = journal([part('part-1.mp4', 10, null)]);
    const { journal: next, next: plan } = continuation(
      stateOf(j, [{ bytes: 900, frames: 240, audioEndS: null }]),
    );
    expect(plan).toBeNull();
    expect(next.parts).toEqual([
      { name: 'part-1.mp4', startFrame: 10, frames: 240, audioEndS: null },
    ]);
  });
});
