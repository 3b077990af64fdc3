import { beforeEach, describe, expect, it, vi } from 'vitest';
import { UpframeError } from '../shared/errors.ts';
import type { SourceSummary } from '../worker/protocol.ts';
import { resetStore, updateSlice, useStore } from './store.ts';

// A worker whose probe fails, as it does for a file no reader takes.
vi.mock('../worker/client.ts', () => ({
  probeSource: () =>
    Promise.reject(
      new UpframeError('UNSUPPORTED_CONTAINER', 'This is not a video file Upframe can open.'),
    ),
  jobWorker: () => ({
    call: (method: string) => Promise.reject(new Error(`unexpected call ${method}`)),
  }),
  subscribeJobWorker: () => undefined,
}));

const { openSource } = await import('./job-actions.ts');

describe('opening a clip', () => {
  beforeEach(resetStore);

  it("a clip that cannot be opened does not keep the previous clip's frame numbers", async () => {
    // the previous clip: 240 frames, frames 10-100 chosen, frame 25 previewed, fields turned off
    updateSlice('source', {
      summary: { video: { frameCount: 240 } } as unknown as SourceSummary,
    });
    updateSlice('settings', { frameFrom: 10, frameTo: 100, previewFrame: 25, deinterlace: false });
    await openSource(new File([new Uint8Array(64)], 'not a video.mp4'));
    const { source, settings } = useStore.getState();
    expect(source.error?.code).toBe('UNSUPPORTED_CONTAINER');
    expect(source.summary).toBeNull();
    expect([settings.frameFrom, settings.frameTo, settings.previewFrame]).toEqual([null, null, 1]);
    expect(settings.deinterlace).toBeNull();
  });
});
