import { describe, expect, inject, it } from 'vitest';
import { withoutHuffmanTables } from '../../test/jpeg-strip.ts';
import { UpframeError } from '../shared/errors.ts';
import { openInput } from './input.ts';
import { PacketTable } from './packet-table.ts';
import type { MediaInput } from './input-types.ts';
import { JpegFrameDecoder } from './jpeg-decoder.ts';
import { probe } from './probe.ts';
import type { VideoTrackInfo } from './types.ts';
import { VideoFrameSink } from './video-frame-sink.ts';

const server = inject('mediaServer');

async function fixture(name: string): Promise<Blob> {
  const res = await fetch(`${server}/fixtures/${name}`);
  if (!res.ok) throw new Error(`fixture ${name}: ${res.status}`);
  return res.blob();
}

/** The input with its video track and packets changed (the file itself is not touched). */
function altered(
  input: MediaInput,
  video: Partial<VideoTrackInfo>,
  damage: (index: number, data: Uint8Array<ArrayBuffer>) => Uint8Array<ArrayBuffer> = (_, d) => d,
): MediaInput {
  const view = Object.create(input) as MediaInput & { video: VideoTrackInfo };
  Object.defineProperty(view, 'video', { value: { ...input.video!, ...video } });
  view.read = async function* (kind, range, track) {
    for await (const s of input.read(kind, range, track)) {
      yield kind === 'video' ? { ...s, data: damage(s.index, s.data) } : s;
    }
  };
  return view;
}

/** Mean of each of the first three bytes of every pixel (B, G, R for BGRX). */
async function meanColour(frame: VideoFrame): Promise<number[]> {
  const rgba = new Uint8Array(frame.displayWidth * frame.displayHeight * 4);
  await frame.copyTo(rgba, { format: 'RGBA' });
  const sum = [0, 0, 0];
  for (let i = 0; i < rgba.length; i += 4) for (let c = 0; c < 3; c++) sum[c]! += rgba[i + c]!;
  return sum.map((s) => s / (rgba.length / 4));
}

describe('Motion JPEG', () => {
  it('is decodable, and every frame of a range comes out in order with its time', async () => {
    for (const name of ['mjpeg.mov', 'mjpeg.mkv']) {
      const summary = await probe(await fixture(name));
      expect([summary.decodable, summary.video.codecName], name).toEqual([true, 'Motion JPEG']);
      const input = await openInput(await fixture(name));
      const sink = new VideoFrameSink(input);
      const times = sink.timing.timestampsUs;
      expect(times.length, name).toBe(24);
      const seen: number[] = [];
      const colours: number[][] = [];
      for await (const f of sink.frames({ range: { start: 5, end: 9 } })) {
        expect([f.frame.displayWidth, f.frame.displayHeight], name).toEqual([320, 180]);
        expect(f.timestampUs, name).toBe(times[f.index]);
        seen.push(f.index);
        colours.push(await meanColour(f.frame));
        f.close();
      }
      expect(seen, name).toEqual([5, 6, 7, 8]);
      // testsrc2 moves from frame to frame: four different pictures, none of them blank
      for (const c of colours) expect(Math.max(...c), name).toBeGreaterThan(40);
      const keys = colours.map((c) => c.map((v) => v.toFixed(1)).join());
      expect(new Set(keys).size, name).toBe(4);
      input.close();
    }
  });

  it('a damaged picture stops the decode with CORRUPT_INPUT naming it, after the frames before it', async () => {
    const input = await openInput(await fixture('mjpeg.mkv'));
    const broken = altered(input, {}, (i, d) => (i === 3 ? d.slice(0, 40) : d));
    const seen: number[] = [];
    let error: unknown = null;
    try {
      for await (const f of new VideoFrameSink(broken).frames()) {
        seen.push(f.index);
        f.close();
      }
    } catch (err) {
      error = err;
    }
    expect(seen).toEqual([0, 1, 2]);
    expect(error).toBeInstanceOf(UpframeError);
    expect((error as UpframeError).code).toBe('CORRUPT_INPUT');
    expect((error as UpframeError).message).toMatch(
      /could not be decoded from frame 4 \(0\.13 s\)/,
    );
    input.close();
  });

  it('pictures of half the track height (two fields a packet, MJPEG-A) are refused, not shown squashed', async () => {
    const input = await openInput(await fixture('mjpeg.mov'));
    const fields = altered(input, {
      height: 360,
      decoderConfig: { codec: 'jpeg', codedWidth: 320, codedHeight: 360 },
    });
    let error: unknown = null;
    try {
      for await (const f of new VideoFrameSink(fields).frames({ range: { start: 0, end: 2 } })) {
        f.close();
      }
    } catch (err) {
      error = err;
    }
    expect((error as UpframeError).code).toBe('CORRUPT_INPUT');
    expect((error as Error).message).toMatch(/two field pictures/);
    input.close();
  });

  it('the decoder keeps VideoDecoder’s contract: queue size, dequeue events, flush, close', async () => {
    const input = await openInput(await fixture('mjpeg.mkv'));
    const out: VideoFrame[] = [];
    const errors: DOMException[] = [];
    const decoder = new JpegFrameDecoder({
      output: (f) => out.push(f),
      error: (e) => errors.push(e),
    });
    let dequeued = 0;
    decoder.addEventListener('dequeue', () => dequeued++);
    expect(() =>
      decoder.decode(new EncodedVideoChunk({ type: 'key', timestamp: 0, data: new Uint8Array(1) })),
    ).toThrow(/unconfigured/);
    decoder.configure(input.video!.decoderConfig);
    for await (const s of input.read('video', { from: 0, to: 3 })) {
      decoder.decode(
        new EncodedVideoChunk({ type: 'key', timestamp: s.timestampUs, data: s.data }),
      );
    }
    expect(decoder.decodeQueueSize).toBe(3);
    await decoder.flush();
    expect([decoder.decodeQueueSize, dequeued, errors.length]).toEqual([0, 3, 0]);
    expect(out.map((f) => f.timestamp)).toEqual(
      Array.from(input.video!.packets.timestampUs.slice(0, 3)),
    );
    for (const f of out) f.close();
    decoder.close();
    expect(decoder.state).toBe('closed');
    await expect(decoder.flush()).rejects.toThrow(/closed/);
    input.close();
  });

  it('a webcam’s frames without Huffman tables, and an empty packet, decode as ffmpeg shows them', async () => {
    const input = await openInput(await fixture('mjpeg.mkv'));
    const pictures = async (from: MediaInput): Promise<string[]> => {
      const out: string[] = [];
      for await (const f of new VideoFrameSink(from).frames({ range: { start: 0, end: 4 } })) {
        out.push((await meanColour(f.frame)).map((v) => v.toFixed(3)).join());
        f.close();
      }
      return out;
    };
    const full = await pictures(input);
    const bare = altered(input, {}, (_, d) => withoutHuffmanTables(d));
    expect(await pictures(bare)).toEqual(full);
    // an empty packet is a dropped frame: the picture before it is shown again
    const dropped = altered(input, {}, (i, d) => (i === 2 ? new Uint8Array(0) : d));
    expect(await pictures(dropped)).toEqual([full[0], full[1], full[1], full[3]]);
    input.close();
  });

  it('close() ends a flush at once, with pictures still waiting', async () => {
    const input = await openInput(await fixture('mjpeg.mkv'));
    const out: VideoFrame[] = [];
    const decoder = new JpegFrameDecoder({ output: (f) => out.push(f), error: () => undefined });
    decoder.configure(input.video!.decoderConfig);
    for await (const s of input.read('video', { from: 0, to: 6 })) {
      decoder.decode(
        new EncodedVideoChunk({ type: 'key', timestamp: s.timestampUs, data: s.data }),
      );
    }
    const flushed = decoder.flush();
    decoder.close();
    await expect(flushed).rejects.toThrow(/closed/);
    expect([decoder.state, decoder.decodeQueueSize]).toEqual(['closed', 0]);
    // whatever came out before the close is the caller's; nothing comes after it
    const before = out.length;
    await new Promise((r) => setTimeout(r, 100));
    expect(out.length).toBe(before);
    for (const f of out) f.close();
    input.close();
  });
});

describe('the frame sink', () => {
  it('frames that come out shuffled (B-frames timed in decode order, as AVI keeps them) stop the decode with a sentence', async () => {
    // an MP4 with B-frames, its times replaced by each packet's place in decode order
    const input = await openInput(await fixture('h264-aac.mp4'));
    const packets = input.video!.packets;
    const step = packets.durationUs[0]!;
    const decodeOrder = PacketTable.ofLength(packets.length);
    for (let k = 0; k < packets.length; k++) {
      decodeOrder.set(k, { ...packets.at(k), timestampUs: k * step });
    }
    const view = Object.create(input) as MediaInput;
    Object.defineProperty(view, 'video', { value: { ...input.video!, packets: decodeOrder } });
    view.read = async function* (kind, range, track) {
      for await (const s of input.read(kind, range, track)) {
        yield kind === 'video' ? { ...s, timestampUs: s.index * step } : s;
      }
    };
    let error: unknown = null;
    let shown = 0;
    try {
      for await (const f of new VideoFrameSink(view).frames()) {
        shown++;
        f.close();
      }
    } catch (err) {
      error = err;
    }
    expect((error as UpframeError).code).toBe('UNSUPPORTED_CODEC');
    expect((error as Error).message).toMatch(/does not keep the order its frames are shown in/);
    expect(shown).toBeLessThan(packets.length);
    input.close();
  });
});
