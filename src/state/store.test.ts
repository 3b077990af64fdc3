import { beforeEach, describe, expect, it } from 'vitest';
import { addComparedFrame, dropRenderedFrames, setSplit, setZoom, stepFrame } from './actions.ts';
import type { GpuInfo } from '../gpu/device.ts';
import type { SourceSummary } from '../worker/protocol.ts';
import {
  firstLookFrame,
  frameRangeProblem,
  jobSettings,
  outputKey,
  outputName,
  partialName,
  previewsByItself,
  renderEstimate,
  resolveModel,
} from './job-actions.ts';
import { speedKey } from './job-settings.ts';
import { MAX_COMPARED_FRAMES, resetStore, useStore, type ComparedFrame } from './store.ts';

describe('store actions', () => {
  beforeEach(resetStore);

  it('turns settings into job settings: scale picks the default family, frames are 1-based', () => {
    const packs = [
      {
        name: 'esrgan-medium-x2',
        title: '',
        kind: 'sr' as const,
        scale: 2,
        bytes: 1,
        default: false,
      },
      {
        name: 'esrgan-medium-x4',
        title: '',
        kind: 'sr' as const,
        scale: 4,
        bytes: 1,
        default: true,
      },
      {
        name: 'esrgan-slim-x2',
        title: '',
        kind: 'sr' as const,
        scale: 2,
        bytes: 1,
        default: false,
      },
    ];
    const base = { ...useStore.getState().settings, packs };
    expect(resolveModel({ ...base, scale: 4 })).toEqual({
      type: 'builtin',
      name: 'esrgan-medium-x4',
    });
    // one default per scale: each scale gets its own, whatever the other scale's family is
    const perScale = base.packs.map((p) => ({ ...p, default: p.name === 'esrgan-slim-x2' }));
    const lite = {
      ...base.packs[1]!,
      name: 'upframe-lite-x4',
      kind: 'lite' as const,
      default: true,
    };
    expect(resolveModel({ ...base, packs: [...perScale, lite], scale: 2 })).toEqual({
      type: 'builtin',
      name: 'esrgan-slim-x2',
    });
    expect(resolveModel({ ...base, packs: [...perScale, lite], scale: 4 })).toEqual({
      type: 'builtin',
      name: 'upframe-lite-x4',
    });
    expect(resolveModel({ ...base, scale: 2 })).toEqual({
      type: 'builtin',
      name: 'esrgan-medium-x2',
    });
    const picked = { type: 'builtin' as const, name: 'esrgan-slim-x2' };
    expect(resolveModel({ ...base, model: picked, scale: 4 })).toEqual(picked);
    expect(jobSettings({ ...base, frameFrom: 3, frameTo: 10 }, 48).frameRange).toEqual({
      start: 2,
      end: 10,
    });
    expect(jobSettings({ ...base, frameFrom: 1, frameTo: 48 }, 48).frameRange).toBeNull();
    // the range problem is said with the numbers the person typed (1-based)
    expect(frameRangeProblem({ frameFrom: 40, frameTo: 10 }, 48)).toBe(
      'From (frame 40) is after To (frame 10): choose a From at or before To.',
    );
    expect(frameRangeProblem({ frameFrom: 48, frameTo: null }, 48)).toBeNull();
    expect(frameRangeProblem({ frameFrom: 5, frameTo: 5 }, 48)).toBeNull();
    // a preview is out of date when the model (with its scale), fusion or deinterlacing change,
    // not when only the backend, the tiles, the codec or the frames do
    const key = (patch: Partial<typeof base>): string =>
      outputKey(jobSettings({ ...base, ...patch }, 48));
    const first = key({});
    expect(key({ backend: 'wasm', tileSize: 128, codec: 'vp9', quality: 'low', frameTo: 9 })).toBe(
      first,
    );
    // unset is the default: fusion on, deinterlacing as the stream says
    expect(key({ temporal: true, deinterlace: true })).toBe(first);
    for (const change of [
      { scale: 2 as const },
      { model: picked },
      { temporal: false },
      { deinterlace: false },
    ]) {
      expect(key(change), JSON.stringify(change)).not.toBe(first);
    }
    const file = new File([new Uint8Array(4)], 'Holiday clip.MOV');
    expect(outputName(file, { ...base, scale: 2, codec: 'avc' }, 'mp4')).toBe(
      'Holiday clip.upframe-x2.mp4',
    );
    expect(outputName(file, { ...base, codec: 'vp9' }, 'webm')).toBe(
      'Holiday clip.upframe-x4.webm',
    );
    // VP9 with AAC audio or a rotation is written as MP4, and named so
    expect(outputName(file, { ...base, codec: 'vp9' }, 'mp4')).toBe('Holiday clip.upframe-x4.mp4');
  });

  it('previews an opened clip by itself where that takes seconds, not minutes', () => {
    const gpu = (isFallbackAdapter: boolean) => ({
      available: true,
      info: { isFallbackAdapter } as GpuInfo,
    });
    const clip = (width: number, height: number, decodable = true) =>
      ({ decodable, video: { width, height } }) as unknown as SourceSummary;
    const lite = { name: 'lite-x4', title: '', kind: 'lite' as const, scale: 4, bytes: 1 };
    const dloral = { ...lite, name: 'dloral-x4', kind: 'dloral' as const };
    const settings = {
      ...useStore.getState().settings,
      packs: [
        { ...lite, default: true },
        { ...dloral, default: false },
      ],
    };
    const cpu = { ...settings, backend: 'wasm' as const, gpu: gpu(true), scale: 4 as const };
    // on the CPU: up to about 4 MP of output (640x360 at 4x), not beyond, not for DLoRAL
    expect(previewsByItself(clip(640, 360), cpu)).toBe(true);
    expect(previewsByItself(clip(1280, 720), cpu)).toBe(false);
    expect(previewsByItself(clip(1280, 720), { ...cpu, scale: 2 })).toBe(true);
    expect(previewsByItself(clip(1920, 1080), { ...cpu, scale: 2 })).toBe(false);
    const picked = { type: 'builtin' as const, name: 'dloral-x4' };
    expect(previewsByItself(clip(64, 36), { ...cpu, model: picked })).toBe(false);
    expect(previewsByItself(clip(64, 36, false), cpu)).toBe(false);
    // a hardware GPU previews everything; WebGPU on a software adapter nothing
    const hw = { ...settings, backend: 'webgpu' as const, gpu: gpu(false), scale: 4 as const };
    expect(previewsByItself(clip(1920, 1080), hw)).toBe(true);
    expect(previewsByItself(clip(64, 36), { ...hw, gpu: gpu(true) })).toBe(false);
  });

  it("estimates a render's time from the preview only while the settings that decide speed hold", () => {
    const lite = { name: 'lite-x4', title: '', kind: 'lite' as const, scale: 4, bytes: 1 };
    const settings = {
      ...useStore.getState().settings,
      packs: [{ ...lite, default: true }],
      scale: 4 as const,
      backend: 'wasm' as const,
    };
    const preview = { ms: 2500, key: speedKey(jobSettings(settings, 240)) };
    expect(renderEstimate(preview, settings, 240)).toEqual({ frames: 240, seconds: 600 });
    // the range's frames, both ends included
    const range = { ...settings, frameFrom: 11, frameTo: 30 };
    expect(renderEstimate(preview, range, 240)).toEqual({ frames: 20, seconds: 50 });
    expect(renderEstimate(preview, { ...settings, frameTo: 1 }, 240)).toEqual({
      frames: 1,
      seconds: 2.5,
    });
    // the output codec and quality do not change the model's work
    expect(renderEstimate(preview, { ...settings, codec: 'vp9', quality: 'low' }, 240)).toEqual({
      frames: 240,
      seconds: 600,
    });
    // another backend, tile size, scale or fusion: the preview's time says nothing of it
    for (const change of [
      { backend: 'webgpu' as const },
      { tileSize: 128 },
      { scale: 2 as const },
      { temporal: false },
    ])
      expect(renderEstimate(preview, { ...settings, ...change }, 240), JSON.stringify(change)).toBe(
        null,
      );
    expect(renderEstimate(null, settings, 240)).toBe(null);
    expect(renderEstimate(preview, { ...settings, frameFrom: 50, frameTo: 20 }, 240)).toBe(null);
    expect(renderEstimate(preview, settings, 0)).toBe(null);
  });

  it('shows an opened clip first at a frame past a fade-in: a tenth in, a second at least, half-way at most', () => {
    expect(firstLookFrame(0, 24)).toBe(1);
    expect(firstLookFrame(1, 24)).toBe(1);
    expect(firstLookFrame(12, 12)).toBe(7); // a one-second clip: half-way
    expect(firstLookFrame(240, 24)).toBe(25); // 10 s: one second in
    expect(firstLookFrame(172800, 24)).toBe(17281); // two hours: a tenth in
    expect(firstLookFrame(100, 0)).toBe(31); // unknown rate: 30 fps
  });

  it('names the saved frames of a stopped render apart from the finished file', () => {
    expect(partialName('clip.upframe-x4.mp4')).toBe('clip.upframe-x4.partial.mp4');
    expect(partialName('take 2.upframe-x2.webm')).toBe('take 2.upframe-x2.partial.webm');
    expect(partialName('noext')).toBe('noext.partial');
    expect(useStore.getState().recovery).toEqual({
      renders: [],
      busy: null,
      saved: {},
      error: null,
      handles: {},
      checked: false,
    });
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
  return {
    frameIndex,
    timestampUs: frameIndex * 1000,
    beforeScaled: bitmap,
    after: bitmap,
    madeWith: null,
    fromRender: frameIndex % 2 === 1,
  };
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

  it('a render’s frames are followed while the newest is shown, not after a person steps away', () => {
    const closed = new Set<number>();
    const shown = () => {
      const { frames, index } = useStore.getState().compare;
      return frames[index]?.frameIndex;
    };
    // a preview of frame 20, then a render from frame 0: the newest frame is followed
    addComparedFrame(fakeFrame(20, closed));
    for (let i = 0; i < 3; i++) addComparedFrame(fakeFrame(i, closed), false);
    expect(shown()).toBe(2);
    // the person steps back to look at frame 1: the render's next frames leave it there
    stepFrame(-1);
    expect(shown()).toBe(1);
    for (let i = 3; i < 6; i++) addComparedFrame(fakeFrame(i, closed), false);
    expect(shown()).toBe(1);
    // stepping onto the newest frame follows again
    stepFrame(4);
    expect(shown()).toBe(5);
    addComparedFrame(fakeFrame(6, closed), false);
    expect(shown()).toBe(6);
    // a preview is shown at once, wherever the viewer was
    stepFrame(-3);
    addComparedFrame(fakeFrame(30, closed));
    expect(shown()).toBe(30);
  });

  it('a new render drops the last render’s frames and keeps the previews', () => {
    const closed = new Set<number>();
    // odd frames come from a render (fakeFrame), even ones from previews
    for (let i = 0; i < 6; i++) addComparedFrame(fakeFrame(i, closed));
    dropRenderedFrames();
    const { frames, index } = useStore.getState().compare;
    expect(frames.map((f) => f.frameIndex)).toEqual([0, 2, 4]);
    expect([...closed].sort()).toEqual([1, 3, 5]);
    expect(index).toBeLessThan(frames.length);
  });
});
