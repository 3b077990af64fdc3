import { describe, expect, it } from 'vitest';
import type { FrameEnhancer } from '../engine/enhancer.ts';
import { INTERLACED_NOTE } from '../media/h264-sps.ts';
import { Deinterlacer } from '../media/index.ts';
import { deinterlacerFor, deinterlaces } from './frame-steps.ts';
import { DEFAULT_SETTINGS } from './settings.ts';

/** An enhancer that only records what it is told about deinterlacing. */
function recorder(): { enhancer: FrameEnhancer; told: boolean[] } {
  const told: boolean[] = [];
  const enhancer = { setDeinterlace: (on: boolean) => told.push(on) } as unknown as FrameEnhancer;
  return { enhancer, told };
}

describe('the job deinterlaces', () => {
  const fields = { warnings: [INTERLACED_NOTE] };
  const progressive = { warnings: [] };

  it('by default when the video may hold fields, and as the person says otherwise', () => {
    const auto = { ...DEFAULT_SETTINGS, deinterlace: null };
    expect(deinterlaces(auto, fields)).toBe(true);
    expect(deinterlaces(auto, progressive)).toBe(false);
    expect(deinterlaces({ ...auto, deinterlace: false }, fields)).toBe(false);
    expect(deinterlaces({ ...auto, deinterlace: true }, progressive)).toBe(true);
  });

  it('inside the enhancer when there is one (on its backend), on the decoded frames when not', () => {
    for (const on of [true, false]) {
      const { enhancer, told } = recorder();
      expect(deinterlacerFor(on, enhancer)).toBeNull();
      expect(told).toEqual([on]);
    }
    expect(deinterlacerFor(true, null)).toBeInstanceOf(Deinterlacer);
    expect(deinterlacerFor(false, null)).toBeNull();
  });
});
