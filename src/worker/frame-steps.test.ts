import { describe, expect, it } from 'vitest';
import type { FrameEnhancer } from '../engine/enhancer.ts';
import { INTERLACED_NOTE } from '../media/h264-sps.ts';
import { Deinterlacer, type FieldOrder } from '../media/index.ts';
import { deinterlacerFor, deinterlaces, pictureFields } from './frame-steps.ts';
import { DEFAULT_SETTINGS } from './settings.ts';

/** An enhancer that only records what it is told about deinterlacing. */
function recorder(): { enhancer: FrameEnhancer; told: (FieldOrder | null)[] } {
  const told: (FieldOrder | null)[] = [];
  const enhancer = {
    setDeinterlace: (fields: FieldOrder | null) => told.push(fields),
  } as unknown as FrameEnhancer;
  return { enhancer, told };
}

describe('the job deinterlaces', () => {
  const fields = { warnings: [INTERLACED_NOTE], video: {} };
  const bottomFirst = {
    warnings: [INTERLACED_NOTE],
    video: { fieldOrder: 'bottom-first' as const },
  };
  const progressive = { warnings: [], video: {} };

  it('by default when the video may hold fields, and as the person says otherwise', () => {
    const auto = { ...DEFAULT_SETTINGS, deinterlace: null };
    expect(deinterlaces(auto, fields)).toBe('top-first');
    expect(deinterlaces(auto, bottomFirst)).toBe('bottom-first');
    expect(deinterlaces(auto, progressive)).toBeNull();
    expect(deinterlaces({ ...auto, deinterlace: false }, fields)).toBeNull();
    expect(deinterlaces({ ...auto, deinterlace: true }, progressive)).toBe('top-first');
    expect(deinterlaces({ ...auto, deinterlace: true }, { warnings: [], video: null })).toBe(
      'top-first',
    );
    // a field named by the person is kept whatever the stream says, also when it says nothing
    expect(deinterlaces({ ...auto, deinterlace: 'top-first' }, bottomFirst)).toBe('top-first');
    expect(deinterlaces({ ...auto, deinterlace: 'bottom-first' }, progressive)).toBe(
      'bottom-first',
    );
  });

  it('inside the enhancer when there is one (on its backend), on the decoded frames when not', () => {
    for (const fields of ['top-first', 'bottom-first', null] as const) {
      const { enhancer, told } = recorder();
      expect(deinterlacerFor(fields, enhancer)).toBeNull();
      expect(told).toEqual([fields]);
    }
    expect(deinterlacerFor('bottom-first', null)?.fields).toBe('bottom-first');
    expect(deinterlacerFor('top-first', null)).toBeInstanceOf(Deinterlacer);
    expect(deinterlacerFor(null, null)).toBeNull();
  });

  it('takes each picture as the stream marks it, unless the person named the field or turned it on', () => {
    const auto = { ...DEFAULT_SETTINGS, deinterlace: null };
    // automatic: as each picture says (a progressive one passes), else in the clip's order
    expect(pictureFields(auto, 'top-first', 'progressive')).toBe('progressive');
    expect(pictureFields(auto, 'top-first', 'bottom-first')).toBe('bottom-first');
    expect(pictureFields(auto, 'bottom-first', null)).toBe('bottom-first');
    // turned on: every frame, in its picture's order where it says one
    const on = { ...auto, deinterlace: true };
    expect(pictureFields(on, 'top-first', 'progressive')).toBe('top-first');
    expect(pictureFields(on, 'top-first', 'bottom-first')).toBe('bottom-first');
    // a field named: that one, whatever the picture says
    const named = { ...auto, deinterlace: 'bottom-first' as const };
    for (const picture of ['progressive', 'top-first', null] as const) {
      expect(pictureFields(named, 'bottom-first', picture)).toBe('bottom-first');
    }
    // a job that does not deinterlace never does
    expect(pictureFields(auto, null, 'top-first')).toBeNull();
  });
});
