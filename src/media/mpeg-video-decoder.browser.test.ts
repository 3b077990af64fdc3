import { describe, expect, inject, it } from 'vitest';
import { UpframeError } from '../shared/errors.ts';
import { openInput } from './input.ts';
import type { MediaInput } from './input-types.ts';
import { MpegVideoDecoder } from './mpeg-video-decoder.ts';
import { Mpeg2Decoder } from './mpeg2/decoder.ts';
import { probe } from './probe.ts';
import type { VideoTrackInfo } from './types.ts';
import { VideoFrameSink } from './video-frame-sink.ts';

const server = inject('mediaServer');

async function fixture(name: string): Promise<Blob> {
  const res = await fetch(`${server}/fixtures/${name}`);
  if (!res.ok) throw new Error(`fixture ${name}: ${res.status}`);
  return res.blob();
}

/** The input with some video packets' bytes replaced (the file itself is not touched). */
function damaged(input: MediaInput, at: number): MediaInput {
  const view = Object.create(input) as MediaInput & { video: VideoTrackInfo };
  view.read = async function* (kind, range, track) {
    for await (const s of input.read(kind, range, track)) {
      yield kind === 'video' && s.index === at ? { ...s, data: new Uint8Array(64).fill(7) } : s;
    }
  };
  return view;
}

/** Each frame's visible I420 planes by timestamp, from the core decoder on every packet. */
async function coreFrames(input: MediaInput): Promise<Map<number, Uint8Array>> {
  const out = new Map<number, Uint8Array>();
  const decoder = new Mpeg2Decoder((f) => {
    const w = f.visibleWidth;
    const h = f.visibleHeight;
    const planes = new Uint8Array((w * h * 3) / 2);
    let o = 0;
    for (let y = 0; y < h; y++, o += w)
      planes.set(f.data.subarray(y * f.width, y * f.width + w), o);
    for (const at of [f.chromaAt, f.crAt]) {
      for (let y = 0; y < h / 2; y++, o += w / 2) {
        const from = at + (y * f.width) / 2;
        planes.set(f.data.subarray(from, from + w / 2), o);
      }
    }
    out.set(f.timestamp, planes);
  });
  decoder.configure();
  for await (const s of input.read('video')) decoder.decode(s.data, s.timestampUs, s.durationUs);
  decoder.flush();
  return out;
}

describe('MPEG-2 video through the frame sink', () => {
  it('is decodable, and a range from inside a GOP comes out in order, as the decoder makes it', async () => {
    const summary = await probe(await fixture('mpeg2.mkv'));
    expect([summary.decodable, summary.video.codecName]).toEqual([true, 'MPEG-2']);
    expect([summary.video.width, summary.video.height, summary.video.frameCount]).toEqual([
      320, 180, 24,
    ]);
    const input = await openInput(await fixture('mpeg2.mkv'));
    const expected = await coreFrames(input);
    expect(expected.size).toBe(24);
    const sink = new VideoFrameSink(input);
    const times = sink.timing.timestampsUs;
    const seen: number[] = [];
    for await (const f of sink.frames({ range: { start: 13, end: 18 } })) {
      expect(f.timestampUs).toBe(times[f.index]);
      expect(f.frame.format).toBe('I420');
      // SD without colour tags: BT.601, limited range
      expect(f.frame.colorSpace.matrix).toBe('smpte170m');
      const planes = new Uint8Array(f.frame.allocationSize());
      await f.frame.copyTo(planes);
      expect(planes).toEqual(expected.get(f.timestampUs));
      seen.push(f.index);
      f.close();
    }
    expect(seen).toEqual([13, 14, 15, 16, 17]);
    input.close();
  });

  it('names the frame a damaged packet stops the decode at', async () => {
    const input = await openInput(await fixture('mpeg2.mkv'));
    const sink = new VideoFrameSink(damaged(input, 4));
    const seen: number[] = [];
    const run = async (): Promise<void> => {
      for await (const f of sink.frames()) {
        seen.push(f.index);
        f.close();
      }
    };
    const err = await run().then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(UpframeError);
    expect((err as UpframeError).code).toBe('CORRUPT_INPUT');
    expect((err as UpframeError).message).toMatch(
      /could not be decoded from frame \d+ .*without a picture/,
    );
    input.close();
  });

  it('closing ends a flush waiting, as VideoDecoder does', async () => {
    const input = await openInput(await fixture('mpeg2.mkv'));
    const frames: VideoFrame[] = [];
    const decoder = new MpegVideoDecoder({ output: (f) => frames.push(f), error: () => undefined });
    decoder.configure(input.video!.decoderConfig);
    for await (const s of input.read('video', { from: 0, to: 6 })) {
      decoder.decode(
        new EncodedVideoChunk({
          type: s.key ? 'key' : 'delta',
          timestamp: s.timestampUs,
          data: s.data,
        }),
      );
    }
    expect(decoder.decodeQueueSize).toBe(6);
    const flushed = decoder.flush();
    decoder.close();
    await expect(flushed).rejects.toThrow(/closed/);
    expect(decoder.state).toBe('closed');
    for (const f of frames) f.close();
    input.close();
  });
});
