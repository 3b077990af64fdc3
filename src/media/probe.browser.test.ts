import { describe, expect, inject, it } from 'vitest';
import { fromErrorInfo, toErrorInfo, UpframeError, type ErrorCode } from '../shared/errors.ts';
import { openFrameCount } from './frame.ts';
import { openInput } from './input.ts';
import type { MediaInput } from './input-types.ts';
import { probe } from './probe.ts';
import { VideoFrameSink } from './video-frame-sink.ts';

const server = inject('mediaServer');

async function fixture(name: string): Promise<Blob> {
  const res = await fetch(`${server}/fixtures/${name}`);
  if (!res.ok) throw new Error(`fixture ${name}: ${res.status}`);
  return res.blob();
}

async function codeOf(p: Promise<unknown>): Promise<ErrorCode | 'resolved'> {
  try {
    await p;
    return 'resolved';
  } catch (err) {
    if (err instanceof UpframeError) return err.code;
    throw err;
  }
}

describe('probe', () => {
  it('summarises H.264 + AAC MP4 with display size, not coded size', async () => {
    const s = await probe(await fixture('h264-aac.mp4'));
    expect(s.container).toBe('mp4');
    expect(s.video.codec).toMatch(/^avc1\.64/);
    expect(s.video.codecName).toBe('H.264');
    expect([s.video.width, s.video.height, s.video.displayWidth, s.video.displayHeight]).toEqual([
      320, 180, 320, 180,
    ]);
    expect(s.video.rotation).toBe(0);
    expect(s.video.colorSpace).toMatchObject({
      primaries: 'bt709',
      transfer: 'bt709',
      matrix: 'bt709',
      fullRange: false,
    });
    expect(s.video.frameCount).toBe(48);
    expect(s.video.durationSeconds).toBeCloseTo(2, 3);
    expect(s.video.averageFps).toBeCloseTo(24, 2);
    expect(s.video.variableFrameRate).toBe(false);
    expect(s.audio).toMatchObject({
      codecName: 'AAC',
      channels: 1,
      sampleRate: 48000,
      copyable: true,
    });
    expect(s.decodable).toBe(true);
  });

  it('names the audio track a player picks and the others the render keeps', async () => {
    const s = await probe(await fixture('two-audio.mkv'));
    expect(s.audio).toMatchObject({
      codecName: 'AAC',
      label: 'French',
      others: ['Commentary (English), AAC'],
    });
    const one = await probe(await fixture('h264-aac.mp4'));
    expect(one.audio).toMatchObject({ label: null, others: [] });
  });

  it('reads VP9 + Opus WebM, AV1 + Opus MP4 and H.264 in MKV', async () => {
    const vp9 = await probe(await fixture('vp9-opus.webm'));
    expect([
      vp9.container,
      vp9.video.codecName,
      vp9.video.frameCount,
      vp9.audio?.codecName,
    ]).toEqual(['webm', 'VP9', 48, 'Opus']);
    // 24 fps in WebM's whole milliseconds (41 or 42 ms apart) is a constant rate
    expect(vp9.video.variableFrameRate).toBe(false);
    const av1 = await probe(await fixture('av1-opus.mp4'));
    expect([
      av1.container,
      av1.video.codecName,
      av1.video.frameCount,
      av1.audio?.codecName,
    ]).toEqual(['mp4', 'AV1', 48, 'Opus']);
    expect(av1.video.codec).toMatch(/^av01\.0\./);
    const mkv = await probe(await fixture('h264-aac.mkv'));
    expect([
      mkv.container,
      mkv.video.codecName,
      mkv.video.frameCount,
      mkv.audio?.codecName,
    ]).toEqual(['mkv', 'H.264', 48, 'AAC']);
  });

  it('reports rotation (clockwise) and the rotated display size', async () => {
    const s = await probe(await fixture('rotated-90.mp4'));
    // ffmpeg 5.1's rotate=90 tag writes a tkhd matrix (b=-1, c=1) that turns the picture 90 degrees
    // counter-clockwise (ffprobe reports +90 in its counter-clockwise convention). We report
    // clockwise degrees, like WebCodecs and mediabunny (which also reads 270 here).
    expect(s.video.rotation).toBe(270);
    expect([s.video.width, s.video.height, s.video.displayWidth, s.video.displayHeight]).toEqual([
      320, 180, 180, 320,
    ]);
  });

  it('detects variable frame rate', async () => {
    const s = await probe(await fixture('vfr-mp3.mp4'));
    expect(s.video.frameCount).toBe(32);
    expect(s.video.variableFrameRate).toBe(true);
    // The last sample lasts 5/24 s in ffmpeg's file, so the clip ends at 1.875 + 0.2083 s.
    expect(s.video.durationSeconds).toBeCloseTo(1.875 + 5 / 24, 3);
    expect(s.audio?.codecName).toBe('MP3');
  });

  it('keeps odd-but-even sizes exact (322x182, not the 336x192 coded size)', async () => {
    const s = await probe(await fixture('odd-322x182.mp4'));
    expect([s.video.width, s.video.height]).toEqual([322, 182]);
  });

  it('reads how the first pictures of H.264 that may hold fields are marked', async () => {
    const note = /may be interlaced/;
    // every picture fields
    const interlaced = await probe(await fixture('interlaced.mp4'));
    const p = interlaced.video.fieldPictures!;
    expect(p.scanned).toBeGreaterThan(10);
    expect(p.fields).toBe(p.scanned);
    expect(interlaced.warnings.some((w) => note.test(w))).toBe(true);
    // progressive pictures in a stream that could hold fields: no warning, the setting stays
    const fake = await probe(await fixture('fake-interlaced.mp4'));
    expect(fake.video.fieldPictures).toEqual({ scanned: 8, fields: 0 });
    expect(fake.video.interlaced).toBe(true);
    expect(fake.warnings.some((w) => note.test(w))).toBe(false);
    // 8 interlaced pictures, then 8 progressive ones (in a transport stream)
    const mixed = await probe(await fixture('mixed-fields.ts'));
    expect(mixed.video.fieldPictures).toEqual({ scanned: 16, fields: 8 });
    expect(mixed.warnings.some((w) => note.test(w))).toBe(true);
    // a stream that cannot hold fields is not read
    expect((await probe(await fixture('h264-aac.mp4'))).video.fieldPictures).toBeNull();
  });

  it('ends each bad input in its error code', { timeout: 20_000 }, async () => {
    expect(await codeOf(probe(await fixture('empty.mp4')))).toBe('EMPTY_FILE');
    expect(await codeOf(probe(await fixture('random.bin')))).toBe('UNSUPPORTED_CONTAINER');
    expect(await codeOf(probe(await fixture('truncated-header.mp4')))).toBe('CORRUPT_INPUT');
    // a garbled cluster: the reader searches to the end for the next element and gives up (the
    // mended mediabunny; unmended it spun for good)
    expect(await codeOf(probe(await fixture('damaged.webm')))).toBe('CORRUPT_INPUT');
    expect(await codeOf(probe(await fixture('audio-only.m4a')))).toBe('NO_VIDEO_TRACK');
    // codecs no browser decodes, in a QuickTime file and in an AVI; MPEG-2 in a studio's 4:2:2,
    // which our MPEG decoder does not read
    const prores = probe(await fixture('prores.mov'));
    await expect(prores).rejects.toThrow(/ProRes/);
    expect(await codeOf(prores)).toBe('UNSUPPORTED_CODEC');
    const xvid = probe(await fixture('xvid.avi'));
    await expect(xvid).rejects.toThrow(/MPEG-4 Part 2 \(Xvid\/DivX\)/);
    expect(await codeOf(xvid)).toBe('UNSUPPORTED_CODEC');
    const studio = probe(await fixture('mpeg2-422.mov'));
    await expect(studio).rejects.toThrow(/its colour is 4:2:2/);
    expect(await codeOf(studio)).toBe('UNSUPPORTED_CODEC');
    // and in a TV recording, 4:2:0 MPEG-2 is decodable
    expect((await probe(await fixture('mpeg2.ts'))).video.codecName).toBe('MPEG-2');
    const hevc = probe(await fixture('hevc.mp4'));
    await expect(hevc).rejects.toThrow(/HEVC/);
    expect(await codeOf(hevc)).toBe('UNSUPPORTED_CODEC');
    const shown = await probe(await fixture('hevc.mp4'), { allowUndecodable: true });
    expect([shown.decodable, shown.video.codecName, shown.video.frameCount]).toEqual([
      false,
      'HEVC',
      48,
    ]);
  });
});

describe('VideoFrameSink', () => {
  it('decodes every frame once, in order, at the source timestamps, with bounded frames open', async () => {
    const input = await openInput(await fixture('vfr-mp3.mp4'));
    try {
      const sink = new VideoFrameSink(input);
      const seen: number[] = [];
      let maxOpen = 0;
      for await (const f of sink.frames({ maxQueuedFrames: 2 })) {
        using frame = f;
        maxOpen = Math.max(maxOpen, openFrameCount());
        expect([frame.frame.displayWidth, frame.frame.displayHeight]).toEqual([320, 180]);
        seen.push(frame.timestampUs);
        // Consumer slower than the decoder: the queue must not grow.
        await new Promise((r) => setTimeout(r, 5));
      }
      const want = [...Array.from({ length: 24 }, (_, i) => i), 24, 27, 30, 33, 36, 39, 42, 45].map(
        (n) => Math.round((n * 1e6) / 24),
      );
      expect(seen.length).toBe(want.length);
      seen.forEach((t, i) => expect(Math.abs(t - want[i]!)).toBeLessThanOrEqual(1));
      // 2 queued + what the decoder emits in one burst (its reorder depth with B-frames).
      expect(maxOpen).toBeLessThanOrEqual(8);
      expect(openFrameCount()).toBe(0);
    } finally {
      input.close();
    }
  });

  // An MP4 whose index lists 48 frames; a WebM cut inside its one cluster (read up to its last
  // whole block through mkv-salvage.ts).
  it.each([
    ['truncated-body.mp4', /it holds \d+ of its 48 frames/],
    ['truncated.webm', /it holds \d+ frames \(.* of 2\.0 s\)/],
  ] as const)(
    '%s, cut: the summary says how much is there, and exactly that decodes',
    async (name, said) => {
      const file = await fixture(name);
      const summary = await probe(file);
      const note = summary.warnings.find((w) => w.startsWith('This file is cut short'));
      expect(note).toMatch(said);
      const held = Number(/holds (\d+)/.exec(note!)![1]);
      expect(summary.video.frameCount).toBe(held);
      expect(held).toBeGreaterThan(10);
      expect(held).toBeLessThan(48);
      const input = await openInput(file);
      const seen: number[] = [];
      try {
        const sink = new VideoFrameSink(input);
        for await (const f of sink.frames()) {
          seen.push(f.index);
          f.close();
        }
      } finally {
        input.close();
      }
      // frames 0 .. held-1 in order, none missing, none past the cut
      expect(seen).toEqual(Array.from({ length: held }, (_, i) => i));
      expect(openFrameCount()).toBe(0);
    },
  );

  // a file on a network share or a disk that stops answering mid-read
  it('a read that never completes ends with STALLED after the frames it had, not a hang', async () => {
    const input = await openInput(await fixture('h264-aac.mp4'));
    const seen: number[] = [];
    try {
      const sink = new VideoFrameSink(readsStopAfter(input, 12));
      const frames = (async () => {
        for await (const f of sink.frames({ stallLimitMs: 1500 })) {
          seen.push(f.index);
          f.close();
        }
      })();
      await expect(frames).rejects.toMatchObject({ code: 'STALLED' });
      await expect(frames).rejects.toThrow(
        /^Reading the clip stopped at frame \d+ \(\d\.\d\d s\): no data came from the file for 2 s\.$/,
      );
      // named by the first frame that did not come
      await expect(frames).rejects.toThrow(`at frame ${seen.length + 1} `);
    } finally {
      input.close();
    }
    // what the decoder had been given came out first, in order (B-frames keep a few back)
    expect(seen.length).toBeGreaterThanOrEqual(6);
    expect(seen).toEqual(Array.from({ length: seen.length }, (_, i) => i));
    expect(openFrameCount()).toBe(0);
  });

  // a preview far into a clip damaged before it: the damage is named, not the frame asked for
  it('a decode error names the first frame that cannot be decoded, as a number too', async () => {
    const input = await openInput(await fixture('corrupt-mid.mp4'));
    const caught = async (range: { start: number; end: number }): Promise<UpframeError> => {
      try {
        for await (const f of new VideoFrameSink(input).frames({ range })) f.close();
      } catch (err) {
        return err as UpframeError;
      }
      throw new Error(`frames ${range.start}..${range.end} decoded`);
    };
    try {
      const whole = await caught({ start: 0, end: 48 });
      expect(whole.code).toBe('CORRUPT_INPUT');
      expect(whole.frame).toBeGreaterThan(5);
      expect(whole.message).toContain(`from frame ${whole.frame! + 1} (`);
      // asked for one frame past the damage: the same first missing frame
      const later = await caught({ start: 40, end: 41 });
      expect([later.code, later.frame]).toEqual(['CORRUPT_INPUT', whole.frame]);
      // and it survives the trip between worker and page
      expect(fromErrorInfo(toErrorInfo(later))).toMatchObject({ frame: whole.frame });
    } finally {
      input.close();
    }
    expect(openFrameCount()).toBe(0);
  });
});

/** The same file, whose video reads stop answering after `n` packets. */
function readsStopAfter(input: MediaInput, n: number): MediaInput {
  return {
    blob: input.blob,
    container: input.container,
    video: input.video,
    audio: input.audio,
    audioTracks: input.audioTracks,
    subtitleTracks: input.subtitleTracks,
    warnings: input.warnings,
    readSubtitles: (window) => input.readSubtitles(window),
    close: () => input.close(),
    async *read(kind, range, audioTrack) {
      let i = 0;
      for await (const sample of input.read(kind, range, audioTrack)) {
        if (kind === 'video' && i++ === n) await new Promise(() => undefined);
        yield sample;
      }
    },
  };
}
