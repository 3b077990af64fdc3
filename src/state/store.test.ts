import { beforeEach, describe, expect, it } from 'vitest';
import { addComparedFrame, openSource, setSplit, setZoom, stepFrame } from './actions.ts';
import { MAX_COMPARED_FRAMES, resetStore, useStore, type ComparedFrame } from './store.ts';

describe('store actions', () => {
  beforeEach(resetStore);

  it('opens a file and refuses an empty one with EMPTY_FILE', () => {
    openSource(new File([new Uint8Array(10)], 'clip.mp4'));
    expect(useStore.getState().source.file?.name).toBe('clip.mp4');
    expect(useStore.getState().source.error).toBeNull();
    openSource(new File([], 'empty.mp4'));
    expect(useStore.getState().source.error?.code).toBe('EMPTY_FILE');
  });

  it('clamps the divider to the frame and leaves other slices alone', () => {
    const before = useStore.getState().settings;
    setSplit(1.7);
    expect(useStore.getState().compare.split).toBe(1);
    setSplit(-2);
    expect(useStore.getState().compare.split).toBe(0);
    expect(useStore.getState().settings).toBe(before);
  });
});

function fakeFrame(frameIndex: number, closed: Set<number>): ComparedFrame {
  const bitmap = {
    close: () => closed.add(frameIndex),
    width: 8,
    height: 8,
  } as unknown as ImageBitmap;
  return { frameIndex, timestampUs: frameIndex * 1000, beforeScaled: bitmap, after: bitmap };
}

describe('compare slice', () => {
  beforeEach(resetStore);

  it('keeps a bounded, ordered set of frames and closes what it drops', () => {
    const closed = new Set<number>();
    for (let i = MAX_COMPARED_FRAMES + 5; i >= 0; i--) addComparedFrame(fakeFrame(i, closed));
    const { frames } = useStore.getState().compare;
    expect(frames).toHaveLength(MAX_COMPARED_FRAMES);
    expect(frames.map((f) => f.frameIndex)).toEqual(
      [...Array(MAX_COMPARED_FRAMES).keys()].map((k) => k),
    );
    // the highest indices were evicted as lower ones arrived
    expect(closed.has(MAX_COMPARED_FRAMES + 5)).toBe(true);
    expect(closed.has(0)).toBe(false);
  });

  it('steps within bounds and zooms in powers of two, resetting pan at fit', () => {
    const closed = new Set<number>();
    for (let i = 0; i < 3; i++) addComparedFrame(fakeFrame(i, closed));
    expect(useStore.getState().compare.index).toBe(2);
    stepFrame(5);
    expect(useStore.getState().compare.index).toBe(2);
    stepFrame(-1);
    expect(useStore.getState().compare.index).toBe(1);
    setZoom(3);
    expect(useStore.getState().compare.zoom).toBe(4);
    setZoom(1000);
    expect(useStore.getState().compare.zoom).toBe(64);
    setZoom(0.3);
    expect(useStore.getState().compare).toMatchObject({ zoom: 1, panX: 0, panY: 0 });
  });
});
