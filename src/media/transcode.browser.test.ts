import { describe, expect, inject, it } from 'vitest';
import type { OutputReport } from '../../test/media-fixtures-setup.ts';
import { UpframeError, type ErrorCode } from '../shared/errors.ts';
import { openFrameCount, peakOpenFrameCount, resetPeakOpenFrameCount } from './frame.ts';
import type { StreamTargetChunk } from 'mediabunny';
import { FileStreamTarget, MemoryTarget, type OutputTarget } from './targets.ts';
import { readMatroskaSubtitles, textSubtitleTracks } from './mkv-subtitles.ts';
import { matroskaHead } from './mkv-tracks.ts';
import { transcode, type TranscodeOptions } from './transcode.ts';

const server = inject('mediaServer');

async function fixture(name: string): Promise<Blob> {
  const res = await fetch(`${server}/fixtures/${name}`);
  if (!res.ok) throw new Error(`fixture ${name}: ${res.status}`);
  return res.blob();
}

/** ffprobe/ffmpeg's view of our output, computed in Node by tools that share no code with ours. */
async function analyze(
  bytes: Uint8Array<ArrayBuffer>,
  ref: string,
  opts: { psnr?: boolean; ext?: string } = {},
): Promise<OutputReport> {
  const q = new URLSearchParams({ ref, ext: opts.ext ?? 'mp4', psnr: opts.psnr ? '1' : '0' });
  const res = await fetch(`${server}/analyze?${q.toString()}`, { method: 'POST', body: bytes });
  if (!res.ok) throw new Error(`analyze: ${res.status} ${await res.text()}`);
  return (await res.json()) as OutputReport;
}

async function run(name: string, opts: Partial<TranscodeOptions> = {}) {
  const target = new MemoryTarget();
  const result = await transcode({ input: await fixture(name), target, ...opts });
  return { result, bytes: target.bytes() };
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

const video = (r: OutputReport) => r.streams.find((s) => s.codec_type === 'video')!;

/** A stand-in enhancer: a new frame it owns, drawn through a canvas (as the GPU path will). */
function viaCanvas(): (frame: VideoFrame) => Promise<VideoFrame> {
  return (frame) => {
    const canvas = new OffscreenCanvas(frame.displayWidth, frame.displayHeight);
    canvas.getContext('2d')!.drawImage(frame, 0, 0);
    return Promise.resolve(new VideoFrame(canvas, { timestamp: frame.timestamp }));
  };
}

describe('transcode', () => {
  it('identity H.264: every frame, same timestamps, audio copied byte for byte, PSNR > 38 dB', async () => {
    resetPeakOpenFrameCount();
    const { result, bytes } = await run('h264-aac.mp4', { quality: 'high' });
    expect(result).toMatchObject({
      frames: 48,
      container: 'mp4',
      width: 320,
      height: 180,
      audioPacketsCopied: 95,
    });
    expect(result.codec).toMatch(/^avc1\.64001e$/);
    expect(result.durationSeconds).toBeCloseTo(2, 3);
    expect(result.bytes).toBe(bytes.byteLength);
    const r = await analyze(bytes, 'h264-aac.mp4', { psnr: true });
    expect(video(r)).toMatchObject({
      codec_name: 'h264',
      width: 320,
      height: 180,
      nb_frames: '48',
    });
    r.videoPtsSeconds.forEach((t, i) => expect(t).toBeCloseTo(i / 24, 3));
    expect(r.audioPackets).toEqual(r.sourceAudioPackets);
    expect(r.audioPackets.length).toBe(95);
    expect(r.psnr).toBeGreaterThan(38);
    console.info(
      `identity H.264 320x180x48: PSNR ${r.psnr} dB, ${result.bytes} bytes, waited ms: decode ` +
        `${result.decodeMs.toFixed(0)}, process ${result.processMs.toFixed(0)}, encode ${result.encodeMs.toFixed(0)}`,
    );
    // Decoded frames alive at once stay a handful, whatever the clip length.
    expect(peakOpenFrameCount()).toBeLessThanOrEqual(8);
    expect(openFrameCount()).toBe(0);
  });

  it('untagged SD H.264 and AV1 come out tagged BT.601, H.264 with its samples unchanged', async () => {
    // Players decode an untagged SD picture as BT.601; Chromium's decoder alone would take
    // BT.709 and the export would be tagged so, shifting its colours in those players.
    const { bytes } = await run('untagged-sd.mp4', { quality: 'high' });
    const r = await analyze(bytes, 'untagged-sd.mp4', { psnr: true });
    expect(video(r)).toMatchObject({ color_space: 'smpte170m', width: 320, height: 180 });
    expect(r.psnr).toBeGreaterThan(38);
    // AV1 likewise (its colour is read from the sequence header in the av1C record).
    const av1 = await run('av1-opus.mp4');
    const r2 = await analyze(av1.bytes, 'av1-opus.mp4');
    expect(video(r2)).toMatchObject({ color_space: 'smpte170m', width: 320, height: 180 });
  });

  it('untagged HD VP9 is decoded with BT.709 and comes out tagged so', async () => {
    // Every sample is Y'CbCr (120, 90, 200) (test/media-fixtures.ts FIXTURE_FACTS.flatYuv).
    // Chromium alone decodes untagged VP9 from WebM as BT.601 at every size (it gave
    // (236, 77, 45) here); players take BT.709 for HD, and so must the picture the model sees.
    const [y, cb, cr] = [120 - 16, 90 - 128, 200 - 128].map((x, k) => x / (k ? 224 : 219));
    const rgb = (kr: number, kb: number) => {
      const kg = 1 - kr - kb;
      const r = y! + 2 * (1 - kr) * cr!;
      const b = y! + 2 * (1 - kb) * cb!;
      return [r, (y! - kr * r - kb * b) / kg, b].map((x) => 255 * x);
    };
    const bt601 = rgb(0.299, 0.114);
    const bt709 = rgb(0.2126, 0.0722);
    const seen: number[][] = [];
    await run('untagged-hd.webm', {
      process: (frame) => {
        const canvas = new OffscreenCanvas(frame.displayWidth, frame.displayHeight);
        const ctx = canvas.getContext('2d')!;
        ctx.drawImage(frame, 0, 0);
        seen.push(Array.from(ctx.getImageData(640, 360, 1, 1).data.subarray(0, 3)));
        return Promise.resolve(new VideoFrame(canvas, { timestamp: frame.timestamp }));
      },
    });
    const off = (a: number[], b: number[]) => Math.max(...a.map((x, k) => Math.abs(x - b[k]!)));
    expect(off(bt601, bt709)).toBeGreaterThan(10); // the two matrices are told apart
    expect(seen).toHaveLength(2);
    // (Chromium's BT.709 path lands within 5 levels of the formula: (250, 91, 45) here.)
    for (const px of seen) expect(off(px, bt709), `${px.join()}`).toBeLessThanOrEqual(6);
    // Frames handed on as decoded carry that colour space into the file's tags.
    const { result, bytes } = await run('untagged-hd.webm', { quality: 'high' });
    const r = await analyze(bytes, 'untagged-hd.webm', { ext: result.container });
    expect(video(r)).toMatchObject({ color_space: 'bt709', width: 1280, height: 720 });
  });

  it('VP9 + Opus WebM through a process step into WebM, audio untouched', async () => {
    const progress: number[] = [];
    const { result, bytes } = await run('vp9-opus.webm', {
      codec: 'vp9',
      container: 'webm',
      process: viaCanvas(),
      onProgress: (p) => progress.push(p.framesDone),
    });
    expect(result).toMatchObject({ frames: 48, container: 'webm' });
    expect(result.codec).toMatch(/^vp09\.00\./);
    expect(result.processMs).toBeGreaterThan(0);
    expect(progress).toEqual(Array.from({ length: 48 }, (_, i) => i + 1));
    const r = await analyze(bytes, 'vp9-opus.webm', { ext: 'webm' });
    expect(video(r)).toMatchObject({ codec_name: 'vp9', width: 320, height: 180 });
    expect(r.videoPtsSeconds).toHaveLength(48);
    expect(r.audioPackets).toEqual(r.sourceAudioPackets);
    expect(openFrameCount()).toBe(0);
  });

  it("a film's subtitles into MKV as SRT, cut to the frame range and moved to its start", async () => {
    // frames 12 to 36 of 24 fps from 0.021 s: 0.521 s to 1.521 s
    const { result, bytes } = await run('subtitled.mkv', { frameRange: { start: 12, end: 36 } });
    expect([result.container, result.subtitleTracks, result.frames]).toEqual(['mkv', 2, 24]);
    const r = await analyze(bytes, 'subtitled.mkv', { ext: 'mkv' });
    expect(r.streams.map((s) => s.codec_name)).toEqual(['h264', 'aac', 'subrip', 'subrip']);
    // read back with our own reader: SRT tracks, the lines of the range
    const blob = new Blob([bytes]);
    const head = (await matroskaHead(blob))!;
    const tracks = textSubtitleTracks(head.tracks);
    expect(head.tracks.filter((t) => t.type === 0x11).map((t) => t.codecId)).toEqual([
      'S_TEXT/UTF8',
      'S_TEXT/UTF8',
    ]);
    const lines = await readMatroskaSubtitles(blob, head, tracks, -Infinity, Infinity);
    expect(lines.map((l) => l.map((c) => [c.startUs, c.durationUs, c.text]))).toEqual([
      [
        [0, 400_000, 'Hello <i>there</i>'],
        [500_000, 500_000, 'Second & line\nwith two rows'],
      ],
      [[0, 1_000_000, 'Bonjour\nle monde']],
    ]);
  });

  it('AV1 at twice the size from an AV1 + Opus MP4', async () => {
    const { result, bytes } = await run('av1-opus.mp4', {
      codec: 'av1',
      outputSize: (w, h) => ({ width: 2 * w, height: 2 * h }),
    });
    expect(result).toMatchObject({ frames: 48, container: 'mp4', width: 640, height: 360 });
    expect(result.codec).toMatch(/^av01\.0\.\d\dM\.08$/);
    const r = await analyze(bytes, 'av1-opus.mp4');
    expect(video(r)).toMatchObject({ codec_name: 'av1', width: 640, height: 360 });
    expect(r.audioPackets).toEqual(r.sourceAudioPackets);
  });

  it('keeps rotation metadata and VFR timestamps', async () => {
    const rotated = await run('rotated-90.mp4');
    const rr = await analyze(rotated.bytes, 'rotated-90.mp4');
    expect(video(rr).rotation).toBe(90); // ffprobe's convention, same as it reports for the source
    expect([video(rr).width, video(rr).height]).toEqual([320, 180]);

    const vfr = await run('vfr-mp3.mp4');
    const rv = await analyze(vfr.bytes, 'vfr-mp3.mp4');
    const want = [...Array.from({ length: 24 }, (_, i) => i), 24, 27, 30, 33, 36, 39, 42, 45];
    expect(rv.videoPtsSeconds).toHaveLength(32);
    rv.videoPtsSeconds.forEach((t, i) => expect(t).toBeCloseTo(want[i]! / 24, 3));
    expect(rv.audioPackets).toEqual(rv.sourceAudioPackets);
  });

  it('exports a frame range starting at t=0 with the matching audio', async () => {
    const { result, bytes } = await run('h264-aac.mp4', { frameRange: { start: 12, end: 36 } });
    expect(result.frames).toBe(24);
    expect(result.durationSeconds).toBeCloseTo(1, 3);
    const r = await analyze(bytes, 'h264-aac.mp4');
    r.videoPtsSeconds.forEach((t, i) => expect(t).toBeCloseTo(i / 24, 3));
    // A contiguous run of the source's packets, about one second of them (1024 samples at 48 kHz).
    const first = r.sourceAudioPackets.indexOf(r.audioPackets[0]!);
    expect(first).toBeGreaterThan(0);
    expect(r.audioPackets).toEqual(
      r.sourceAudioPackets.slice(first, first + r.audioPackets.length),
    );
    expect(Math.abs(r.audioPackets.length - 47)).toBeLessThanOrEqual(1);
  });

  it(
    'cancel rejects with EXPORT_CANCELED and leaves no finished file',
    { timeout: 20_000 },
    async () => {
      const controller = new AbortController();
      const target = new MemoryTarget();
      const p = transcode({
        input: await fixture('h264-aac.mp4'),
        target,
        signal: controller.signal,
        onProgress: (q) => {
          if (q.framesDone === 5) controller.abort();
        },
      });
      expect(await codeOf(p)).toBe('EXPORT_CANCELED');
      expect(() => target.bytes()).toThrow(/not finished/);
      expect(openFrameCount()).toBe(0);
    },
  );

  it('Vorbis goes into a render part for a WebM render (the join puts it into the WebM)', async () => {
    const { result, bytes } = await run('vp9-vorbis.webm', {
      codec: 'vp9',
      container: 'webm',
      part: true,
    });
    expect([result.audioTracks, result.warnings]).toEqual([1, []]);
    const r = await analyze(bytes, 'vp9-vorbis.webm');
    expect(r.streams.find((s) => s.codec_type === 'audio')?.codec_name).toBe('vorbis');
    expect(r.audioPackets).toEqual(r.sourceAudioPackets);
  });

  it('a track that ends early is closed there: a render part is written as it goes', async () => {
    const target = new MemoryTarget();
    const written: number[] = [];
    const result = await transcode({
      input: await fixture('commentary-ends.mp4'),
      target,
      part: true,
      keyframeIntervalSeconds: 0.25,
      onProgress: () => written.push(target.bytesWritten),
    });
    expect(result.audioTracks).toBe(2);
    // by the last frame most fragments are on disk (the muxer writes one only when every open
    // track has its packets: with the commentary left open after its end, nothing more was
    // written until the part was finished, and a crash kept none of it)
    expect(written.at(-1)!).toBeGreaterThan(result.bytes / 2);
    const report = await analyze(target.bytes(), 'commentary-ends.mp4');
    const seconds = report.streams
      .filter((s) => s.codec_type === 'audio')
      .map((s) => Math.round(Number((s as { duration?: string }).duration) * 10) / 10);
    expect(seconds).toEqual([2, 0.5]);
  });

  it('a track that starts late does not hold the frames before it: a render part is written as it goes', async () => {
    const target = new MemoryTarget();
    const written: number[] = [];
    const result = await transcode({
      input: await fixture('commentary-late.mkv'),
      target,
      part: true,
      keyframeIntervalSeconds: 0.25,
      onProgress: () => written.push(target.bytesWritten),
    });
    expect([result.audioTracks, written.length]).toEqual([2, 48]);
    // frame 36 ends at 1.5 s, where the commentary starts: by then most of the fragments before
    // it are on disk (the muxer writes one only when every open track has reached it, so before
    // the commentary's first packet was added, every frame waited in memory for it)
    expect(written[35]!).toBeGreaterThan(result.bytes / 3);
    const report = await analyze(target.bytes(), 'commentary-late.mkv');
    expect(report.audioPackets).toEqual(report.sourceAudioPackets);
    const starts = report.streams
      .filter((s) => s.codec_type === 'audio')
      .map((s) => Math.round(Number((s as { start_time?: string }).start_time) * 10) / 10);
    expect(starts).toEqual([0, 1.5]);
  });

  it('ends bad inputs and impossible sizes in their error codes', { timeout: 25_000 }, async () => {
    expect(
      await codeOf(transcode({ input: await fixture('hevc.mp4'), target: new MemoryTarget() })),
    ).toBe('UNSUPPORTED_CODEC');
    const huge = transcode({
      input: await fixture('h264-aac.mp4'),
      target: new MemoryTarget(),
      outputSize: () => ({ width: 16384, height: 16384 }),
    });
    expect(await codeOf(huge)).toBe('RESOLUTION_TOO_LARGE');
    const badRange = transcode({
      input: await fixture('h264-aac.mp4'),
      target: new MemoryTarget(),
      frameRange: { start: 5, end: 2 },
    });
    await expect(badRange).rejects.toThrow(/frameRange/);
    expect(openFrameCount()).toBe(0);
  });

  it('streams into a FileSystemWritableFileStream; a canceled export leaves the file untouched', async () => {
    const dir = await navigator.storage.getDirectory();
    const handle = await dir.getFileHandle('upframe-media-test.mp4', { create: true });
    const done = await transcode({
      input: await fixture('h264-aac.mp4'),
      target: new FileStreamTarget(await handle.createWritable()),
    });
    const file = await handle.getFile();
    expect(file.size).toBe(done.bytes);
    const r = await analyze(new Uint8Array(await file.arrayBuffer()), 'h264-aac.mp4');
    expect(video(r).nb_frames).toBe('48');

    const controller = new AbortController();
    const canceled = transcode({
      input: await fixture('h264-aac.mp4'),
      target: new FileStreamTarget(await handle.createWritable()),
      signal: controller.signal,
      onProgress: (q) => {
        if (q.framesDone === 10) controller.abort();
      },
    });
    expect(await codeOf(canceled)).toBe('EXPORT_CANCELED');
    // The earlier finished file is still there, whole: the aborted stream never replaced it.
    expect((await handle.getFile()).size).toBe(done.bytes);
    await dir.removeEntry('upframe-media-test.mp4');
  });

  // a disk (a network share, a USB stick pulled half-way) that stops answering
  it.each([
    ['during the frames', /at frame \d+/, 1, {}],
    [
      'while a render part is finished',
      /at its end/,
      3,
      { part: true, keyframeIntervalSeconds: 0.25 },
    ],
  ] as const)(
    'a write that never completes %s stops it with STALLED, not a hang',
    { timeout: 30_000 },
    async (_, where, writes, opts) => {
      const target = new StalledTarget(writes);
      const p = transcode({
        input: await fixture('h264-aac.mp4'),
        target,
        stallLimitMs: 1500,
        ...opts,
      });
      await expect(p).rejects.toMatchObject({ code: 'STALLED' });
      await expect(p).rejects.toThrow(/^Writing the enhanced file stopped: the disk took no data/);
      await expect(p).rejects.toThrow(where);
      expect(target.aborted).toBe(true);
      expect(openFrameCount()).toBe(0);
    },
  );
});

/** Takes `writes` writes, then never completes another. */
class StalledTarget implements OutputTarget {
  aborted = false;
  private readonly inner = new MemoryTarget();

  constructor(private readonly writes: number) {}

  get bytesWritten(): number {
    return this.inner.bytesWritten;
  }

  open(): WritableStream<StreamTargetChunk> {
    const inner = this.inner.open().getWriter();
    let count = 0;
    return new WritableStream<StreamTargetChunk>({
      write: (chunk) => (++count > this.writes ? new Promise(() => undefined) : inner.write(chunk)),
    });
  }

  commit(): Promise<void> {
    return this.inner.commit();
  }

  abort(): Promise<void> {
    this.aborted = true;
    return this.inner.abort();
  }
}
