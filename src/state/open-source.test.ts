import { beforeEach, describe, expect, it, vi } from 'vitest';
import { UpframeError } from '../shared/errors.ts';
import type { SourceSummary } from '../worker/protocol.ts';
import type * as SaveOutput from './save-output.ts';
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

// A save dialog that stays open until the test answers it (null: closed without a file).
let answerPicker: ((value: null) => void) | null = null;
const chooseOutput = vi.fn(
  () =>
    new Promise<null>((resolve) => {
      answerPicker = resolve;
    }),
);
vi.mock('./save-output.ts', async (importOriginal) => ({
  ...(await importOriginal<typeof SaveOutput>()),
  chooseOutput,
}));

const { openSource, previewFrame, startRender } = await import('./job-actions.ts');

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

describe('opening a clip while a render is on', () => {
  beforeEach(resetStore);

  const clip = new File([new Uint8Array(64)], 'long take.mp4');

  it('is refused while the render runs or is paused, and the render and its clip stay', async () => {
    for (const phase of ['running', 'paused'] as const) {
      resetStore();
      updateSlice('source', { file: clip });
      updateSlice('job', { phase, framesDone: 4, framesTotal: 100 });
      await openSource(new File([new Uint8Array(64)], 'next.mp4'));
      const { source, job } = useStore.getState();
      expect(source.file).toBe(clip);
      expect([job.phase, job.framesDone]).toEqual([phase, 4]);
      expect(source.refused).toEqual({
        code: 'BUSY',
        message: '"next.mp4" was not opened: the render of "long take.mp4" is in progress.',
      });
    }
  });

  it('a finished download nobody has taken yet stays offered after another clip opens', async () => {
    updateSlice('source', { file: clip });
    const saved = { kind: 'download', name: 'long take.upframe-x2.mp4', url: 'blob:a' } as const;
    updateSlice('job', { phase: 'done', saved });
    await openSource(new File([new Uint8Array(64)], 'next.mp4'));
    expect(useStore.getState().job.saved).toBeNull();
    expect(useStore.getState().source.refused).toBeNull();
    expect(useStore.getState().downloads.earlier).toEqual([
      { name: 'long take.upframe-x2.mp4', url: 'blob:a' },
    ]);
    // once only, however often the page moves on
    await openSource(new File([new Uint8Array(64)], 'third.mp4'));
    expect(useStore.getState().downloads.earlier).toHaveLength(1);
  });

  it('a preview after a render keeps its download offered', async () => {
    updateSlice('source', { file: clip, summary: { video: {} } as unknown as SourceSummary });
    const saved = { kind: 'download', name: 'long take.upframe-x2.mp4', url: 'blob:b' } as const;
    updateSlice('job', { phase: 'done', saved });
    await previewFrame(); // (the worker of this test refuses it: the phase moves on all the same)
    expect(useStore.getState().job.phase).not.toBe('done');
    expect(useStore.getState().downloads.earlier).toEqual([
      { name: 'long take.upframe-x2.mp4', url: 'blob:b' },
    ]);
  });

  it('is refused from the press of Render on, while the save dialog is still open', async () => {
    const summary = {
      video: { frameCount: 100 },
      outputContainers: { avc: 'mp4' },
      plainContainers: { avc: 'mp4' },
    };
    updateSlice('source', { file: clip, summary: summary as unknown as SourceSummary });
    const rendering = startRender();
    await vi.waitFor(() => expect(answerPicker).not.toBeNull());
    await openSource(new File([new Uint8Array(64)], 'next.mp4'));
    expect(useStore.getState().source.file).toBe(clip);
    expect(useStore.getState().source.refused?.code).toBe('BUSY');
    // the page knows (it says the refusal, and Render and Preview wait)
    expect(useStore.getState().job.starting).toBe(true);
    // a second press meanwhile opens no second dialog, and a preview does not start
    await startRender();
    expect(chooseOutput).toHaveBeenCalledTimes(1);
    await previewFrame();
    expect(useStore.getState().job.phase).toBe('idle');
    // the dialog closed without a file: no render, and the next clip opens
    answerPicker!(null);
    await rendering;
    expect(useStore.getState().job.phase).toBe('idle');
    expect(useStore.getState().job.starting).toBe(false);
    await openSource(new File([new Uint8Array(64)], 'next.mp4'));
    expect(useStore.getState().source.refused).toBeNull();
    expect(useStore.getState().source.file?.name).toBe('next.mp4');
  });
});
