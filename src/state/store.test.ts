import { beforeEach, describe, expect, it } from 'vitest';
import { openSource, setSplit } from './actions.ts';
import { resetStore, useStore } from './store.ts';

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
