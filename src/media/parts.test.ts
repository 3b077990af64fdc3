import { openAsBlob } from 'node:fs';
import {
  ALL_FORMATS,
  BlobSource,
  BufferSource,
  BufferTarget,
  EncodedAudioPacketSource,
  EncodedPacketSink,
  EncodedVideoPacketSource,
  Input,
  type EncodedPacket,
} from 'mediabunny';
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureMediaFixtures, fixturePath } from '../../test/media-fixtures.ts';
import { audioTrackMetadata, partOutput } from './output.ts';
import { assembleParts, durableLength, partExtent } from './parts.ts';
import { MemoryTarget } from './targets.ts';

// Parts are muxed here from a real file's packets (VP9 with a keyframe every 6 frames, Opus), so
// fragments, cuts and joins are exercised without WebCodecs.
beforeAll(() => {
  ensureMediaFixtures();
}, 60_000);

interface Source {
  video: EncodedPacket[];
  audio: EncodedPacket[];
  vcfg: VideoDecoderConfig;
  acfg: AudioDecoderConfig;
}

async function readAll(blob: Blob): Promise<Source> {
  const input = new Input({ source: new BlobSource(blob), formats: ALL_FORMATS });
  const v = (await input.getPrimaryVideoTrack())!;
  const a = (await input.getPrimaryAudioTrack())!;
  const video: EncodedPacket[] = [];
  const audio: EncodedPacket[] = [];
  for await (const p of new EncodedPacketSink(v).packets()) video.push(p);
  for await (const p of new EncodedPacketSink(a).packets()) audio.push(p);
  const out = {
    video,
    audio,
    vcfg: (await v.getDecoderConfig())!,
    acfg: (await a.getDecoderConfig())!,
  };
  input.dispose();
  return out;
}

/**
 * A fragmented MP4 part holding these packets, interleaved by time as MuxWriter adds them; with
 * `second`, a second audio track (French, titled "Commentary") as MuxWriter writes a film's.
 */
async function writePart(
  src: Source,
  video: EncodedPacket[],
  audio: EncodedPacket[],
  second?: EncodedPacket[],
  firstLanguage: string | null = null,
) {
  const target = new BufferTarget();
  // a fragment per keyframe (every 6 frames) so a 2 s clip makes eight of them
  const { output: out } = partOutput(target, 0.2);
  const vs = new EncodedVideoPacketSource('vp9');
  out.addVideoTrack(vs);
  const tracks = second ? [audio, second] : [audio];
  const sources = tracks.map((_, k) => {
    const source = new EncodedAudioPacketSource('opus');
    out.addAudioTrack(
      source,
      audioTrackMetadata(
        k === 0
          ? { language: firstLanguage, title: null }
          : { language: 'fra', title: 'Commentary' },
        k === 0,
      ),
    );
    return source;
  });
  await out.start();
  const next = tracks.map(() => 0);
  const addAudio = async (until: number) => {
    for (const [k, packets] of tracks.entries()) {
      while (next[k]! < packets.length && packets[next[k]!]!.timestamp <= until) {
        const p = packets[next[k]!]!;
        await sources[k]!.add(p, next[k] === 0 ? { decoderConfig: src.acfg } : undefined);
        next[k]!++;
      }
    }
  };
  for (const [i, p] of video.entries()) {
    await addAudio(p.timestamp);
    await vs.add(p, i === 0 ? { decoderConfig: src.vcfg } : undefined);
  }
  await addAudio(Infinity);
  await out.finalize();
  // every finished fragment's sample list was cut to its first sample as it was written (the
  // only one mediabunny reads again, for the mfra index): a part's memory does not grow with
  // its length. This reads mediabunny's internals; if an upgrade renames them, this fails.
  const chunks = (out as unknown as { _muxer: { finalizedChunks: { samples: unknown[] }[] } })
    ._muxer.finalizedChunks;
  if (video.length > 12) {
    expect(chunks.length).toBeGreaterThan(2);
    expect(chunks.slice(0, -2).every((c) => c.samples.length === 1)).toBe(true);
  }
  return new Blob([target.buffer!]);
}

// timestamps to 0.1 ms: MP4 stores them in its track's timescale
const key = (p: EncodedPacket) => [Math.round(p.timestamp * 1e4), p.data.byteLength, p.type];

describe('render parts', () => {
  it('a part cut anywhere keeps exactly its whole fragments, and only those are read', async () => {
    const src = await readAll(await openAsBlob(fixturePath('clusters.webm')));
    const part = await writePart(src, src.video, src.audio);
    // whole fragments end before the trailing index (mfra) the finished file has
    expect(await durableLength(part)).toBeGreaterThan(part.size - 1024);
    expect(await partExtent(part)).toMatchObject({
      frames: src.video.length,
      audioEndS: src.audio.at(-1)!.timestamp + src.audio.at(-1)!.duration,
    });
    let previous = 0;
    const seen = new Set<number>();
    for (let size = 0; size <= part.size; size += Math.max(1, Math.floor(part.size / 157))) {
      const cut = part.slice(0, size);
      const durable = await durableLength(cut);
      expect(durable).toBeLessThanOrEqual(size);
      const { frames, bytes } = await partExtent(cut);
      expect(bytes).toBe(durable);
      // more bytes never mean fewer frames; whole fragments are whole keyframe intervals
      expect(frames).toBeGreaterThanOrEqual(previous);
      if (frames > 0 && frames < src.video.length) expect(src.video[frames]!.type).toBe('key');
      previous = frames;
      seen.add(frames);
    }
    // the cuts land before the first fragment, in several places between, and at the end
    expect(seen.has(0)).toBe(true);
    expect(seen.size).toBeGreaterThan(4);
  });

  it('joins a part cut short with the part that continues it: every packet once, in order', async () => {
    const src = await readAll(await openAsBlob(fixturePath('clusters.webm')));
    const whole = await writePart(src, src.video, src.audio);
    // the first part as a closed tab left it: cut in the middle of the file
    const cutA = whole.slice(0, Math.floor(whole.size * 0.55));
    const extent = await partExtent(cutA);
    const a = cutA.slice(0, extent.bytes);
    const n = extent.frames;
    expect(n).toBeGreaterThan(0);
    expect(n).toBeLessThan(src.video.length);
    // the continuation starts at the first frame missing, and its audio where the part's ends
    // (the lost fragment's audio lies before the first missing frame)
    const audioEnd = extent.audioEndS!;
    expect(audioEnd).toBeLessThan(src.video[n]!.timestamp);
    const b = await writePart(
      src,
      src.video.slice(n),
      src.audio.filter((p) => p.timestamp >= audioEnd - 1e-6),
    );
    for (const container of ['webm', 'mp4'] as const) {
      const target = new MemoryTarget();
      const seen: [number, number][] = [];
      const result = await assembleParts([{ blob: a, frames: n }, { blob: b }], target, {
        container,
        complete: true,
        onProgress: (done, total) => seen.push([done, total]),
      });
      expect(result.frames).toBe(src.video.length);
      expect(seen).toEqual(src.video.map((_, i) => [i + 1, src.video.length]));
      expect(result.container).toBe(container);
      const joined = await readAll(new Blob([target.bytes()]));
      expect(joined.video.map(key)).toEqual(src.video.map(key));
      expect(joined.video.map((p) => Array.from(p.data))).toEqual(
        src.video.map((p) => Array.from(p.data)),
      );
      expect(joined.audio.map(key)).toEqual(src.audio.map(key));
      expect(result.audioPacketsCopied).toBe(src.audio.length);
    }
  });

  it('joins parts with two audio tracks: each track whole, once, with its language and title', async () => {
    const src = await readAll(await openAsBlob(fixturePath('clusters.webm')));
    // a second track whose packets fall between the first's (its durable end differs)
    const second = src.audio.map((p) => p.clone({ timestamp: p.timestamp + 0.01 }));
    const whole = await writePart(src, src.video, src.audio, second);
    const cutA = whole.slice(0, Math.floor(whole.size * 0.55));
    const extent = await partExtent(cutA);
    const n = extent.frames;
    expect(n).toBeGreaterThan(0);
    // the continuation starts every track at the earliest end of the part's tracks
    const audioEnd = extent.audioEndS!;
    const after = (packets: EncodedPacket[]) =>
      packets.filter((p) => p.timestamp >= audioEnd - 1e-6);
    const b = await writePart(src, src.video.slice(n), after(src.audio), after(second));
    for (const container of ['mkv', 'mp4'] as const) {
      const target = new MemoryTarget();
      const result = await assembleParts(
        [{ blob: cutA.slice(0, extent.bytes), frames: n }, { blob: b }],
        target,
        { container, complete: true },
      );
      expect(result.frames).toBe(src.video.length);
      expect(result.audioPacketsCopied).toBe(2 * src.audio.length);
      expect(result.warnings).toEqual([]);
      const input = new Input({ source: new BufferSource(target.bytes()), formats: ALL_FORMATS });
      const tracks = await input.getAudioTracks();
      expect(tracks.map((t) => [t.languageCode, t.name, t.disposition.default])).toEqual([
        ['und', null, true],
        ['fra', 'Commentary', false],
      ]);
      for (const [k, expected] of [src.audio, second].entries()) {
        const got: EncodedPacket[] = [];
        for await (const p of new EncodedPacketSink(tracks[k]!).packets()) got.push(p);
        expect(got.map(key)).toEqual(expected.map(key));
      }
      input.dispose();
    }
  });

  it('a track that ends early is closed there: the join writes as it goes, and keeps it whole', async () => {
    const src = await readAll(await openAsBlob(fixturePath('clusters.webm')));
    // a commentary over the first few packets only
    const short = src.audio.slice(0, 10).map((p) => p.clone({ timestamp: p.timestamp + 0.01 }));
    const part = await writePart(src, src.video, src.audio, short);
    const target = new MemoryTarget();
    const written: number[] = [];
    const result = await assembleParts([{ blob: part }], target, {
      container: 'mkv',
      complete: true,
      onProgress: () => written.push(target.bytesWritten),
    });
    expect(result.audioPacketsCopied).toBe(src.audio.length + short.length);
    // (left open, the commentary kept every cluster after its end in memory until the end)
    expect(written.at(-1)!).toBeGreaterThan(result.bytes / 2);
    // cut short, the part's audio ends where its running track's does: a continuation does not
    // start again where the commentary ended long before
    const extent = await partExtent(part.slice(0, Math.floor(part.size * 0.85)));
    const lastShort = short.at(-1)!;
    expect(extent.audioEndS!).toBeGreaterThan(lastShort.timestamp + lastShort.duration + 0.5);
  });

  it('a track that starts late, or pauses, in the same part or a later one, does not hold the frames before it', async () => {
    const src = await readAll(await openAsBlob(fixturePath('clusters.webm')));
    // a commentary from 1.5 s to the end, and one that also speaks until 0.3 s
    const late = src.audio
      .filter((p) => p.timestamp >= 1.5)
      .map((p) => p.clone({ timestamp: p.timestamp + 0.01 }));
    const early = src.audio
      .filter((p) => p.timestamp < 0.3)
      .map((p) => p.clone({ timestamp: p.timestamp + 0.01 }));
    const between = (from: number, to: number) =>
      src.audio.filter((p) => p.timestamp >= from && p.timestamp < to);
    const layouts: [string, Blob[], EncodedPacket[]][] = [
      ['one part', [await writePart(src, src.video, src.audio, late)], late],
      // the first part has the track and none of its packets, as MuxWriter writes it
      [
        'two parts',
        [
          await writePart(src, src.video.slice(0, 24), between(0, 1), []),
          await writePart(src, src.video.slice(24), between(1, 9), late),
        ],
        late,
      ],
      // a pause from 0.3 s to 1.5 s across a part with none of it (a render stopped twice)
      [
        'a pause across parts',
        [
          await writePart(src, src.video.slice(0, 12), between(0, 0.5), early),
          await writePart(src, src.video.slice(12, 24), between(0.5, 1), []),
          await writePart(src, src.video.slice(24), between(1, 9), late),
        ],
        [...early, ...late],
      ],
    ];
    for (const [layout, parts, commentary] of layouts) {
      const target = new MemoryTarget();
      const written: number[] = [];
      const result = await assembleParts(
        parts.map((blob) => ({ blob })),
        target,
        { container: 'mkv', complete: true, onProgress: () => written.push(target.bytesWritten) },
      );
      expect([layout, result.audioPacketsCopied]).toEqual([
        layout,
        src.audio.length + commentary.length,
      ]);
      // by frame 24 (1 s), half a second before the commentary's next packet, the clusters
      // before it are written (the muxer writes one only when every open track has reached it:
      // before the join added that packet ahead, every frame waited in memory for it, and 43
      // bytes were written by then)
      expect(written[23]!, layout).toBeGreaterThan(result.bytes / 4);
      const input = new Input({ source: new BufferSource(target.bytes()), formats: ALL_FORMATS });
      const tracks = await input.getAudioTracks();
      const got: EncodedPacket[][] = [];
      for (const track of tracks) {
        const packets: EncodedPacket[] = [];
        for await (const p of new EncodedPacketSink(track).packets()) packets.push(p);
        got.push(packets);
      }
      expect(
        got.map((t) => t.map(key)),
        layout,
      ).toEqual([src.audio.map(key), commentary.map(key)]);
      input.dispose();
    }
  });

  it('copies audio packets that share a timestamp (a laced block) once each', async () => {
    const src = await readAll(await openAsBlob(fixturePath('clusters.webm')));
    // pairs of packets at one time, as mediabunny reads the frames of a block without a duration
    const twins = src.audio
      .slice(0, 20)
      .map((p, i) => p.clone({ timestamp: src.audio[i - (i % 2)]!.timestamp + 0.01 }));
    const part = await writePart(src, src.video, src.audio, twins);
    const target = new MemoryTarget();
    const result = await assembleParts([{ blob: part }], target, {
      container: 'mkv',
      complete: true,
    });
    expect(result.audioPacketsCopied).toBe(src.audio.length + twins.length);
  });

  it('a part from before tracks had languages joins the same track of a later part', async () => {
    const src = await readAll(await openAsBlob(fixturePath('clusters.webm')));
    const a = await writePart(
      src,
      src.video.slice(0, 24),
      src.audio.filter((p) => p.timestamp < 1),
    );
    const rest = src.audio.filter((p) => p.timestamp >= 1);
    const b = await writePart(src, src.video.slice(24), rest, undefined, 'eng');
    const target = new MemoryTarget();
    const result = await assembleParts([{ blob: a }, { blob: b }], target, {
      container: 'mp4',
      complete: true,
    });
    expect(result.audioTracks).toBe(1);
    const joined = await readAll(new Blob([target.bytes()]));
    expect(joined.audio.map(key)).toEqual(src.audio.map(key));
  });

  it('saves a render as far as it got: its frames, and audio up to its last frame', async () => {
    const src = await readAll(await openAsBlob(fixturePath('clusters.webm')));
    const whole = await writePart(src, src.video, src.audio);
    const cut = whole.slice(0, Math.floor(whole.size * 0.4));
    const { bytes, frames: n, audioEndS } = await partExtent(cut);
    const a = cut.slice(0, bytes);
    const target = new MemoryTarget();
    const result = await assembleParts([{ blob: a }], target, { container: null, complete: false });
    expect(result.frames).toBe(n);
    expect(result.container).toBe('mp4');
    const saved = await readAll(new Blob([target.bytes()]));
    expect(saved.video.map(key)).toEqual(src.video.slice(0, n).map(key));
    const endS = src.video[n - 1]!.timestamp + src.video[n - 1]!.duration;
    expect(saved.audio.length).toBeGreaterThan(0);
    expect(saved.audio.every((p) => p.timestamp < endS)).toBe(true);
    // the source's audio as far as the part's whole fragments hold it, and not past the video
    expect(saved.audio.map(key)).toEqual(
      src.audio.filter((p) => p.timestamp < Math.min(endS, audioEndS! - 1e-6)).map(key),
    );
    expect(result.durationSeconds).toBeCloseTo(endS - src.video[0]!.timestamp, 4);
  });

  it('refuses to join parts the encoder made differently', async () => {
    const src = await readAll(await openAsBlob(fixturePath('clusters.webm')));
    const a = await writePart(src, src.video.slice(0, 6), src.audio.slice(0, 5));
    const other = { ...src, vcfg: { ...src.vcfg, codec: 'vp09.00.41.08' } };
    const b = await writePart(other, src.video.slice(6, 12), []);
    const target = new MemoryTarget();
    await expect(
      assembleParts([{ blob: a }, { blob: b }], target, { container: null, complete: true }),
    ).rejects.toMatchObject({ code: 'ENCODER_FAILED' });
    expect(() => target.bytes()).toThrow(/not finished/);
  });
});
