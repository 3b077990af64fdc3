import { execFileSync } from 'node:child_process';
import { mkdtempSync, openAsBlob, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureMediaFixtures, fixturePath, type FixtureName } from '../../test/media-fixtures.ts';
import type { UpframeError } from '../shared/errors.ts';
import { INTERLACED_NOTE } from './h264-sps.ts';
import { openInput, sniffContainer } from './input.ts';
import type { MediaInput } from './input-types.ts';
import { ac3Header } from './mpeg-audio-es.ts';
import { MpegVideoSplitter, type CodedPicture } from './mpeg-video-es.ts';

// MPEG program streams read in Node, against what ffprobe and ffmpeg say of the same files.
beforeAll(() => {
  ensureMediaFixtures();
}, 120_000);

interface Probed {
  pts: number | null;
  duration: number;
  size: number;
  key: boolean;
}

/** ffprobe's packets of one stream (90 kHz ticks). */
function probePackets(path: string, stream: string): Probed[] {
  return execFileSync(
    'ffprobe',
    [
      ...['-v', 'error', '-select_streams', stream],
      ...['-show_entries', 'packet=pts,duration,size,flags', '-of', 'csv=p=0', path],
    ],
    { encoding: 'utf8' },
  )
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => {
      const [pts, duration, size, flags] = l.split(',');
      return {
        pts: pts === 'N/A' ? null : Number(pts),
        duration: Number(duration),
        size: Number(size),
        key: flags!.startsWith('K'),
      };
    });
}

/** A stream's bytes as ffmpeg copies them out of the file into a raw elementary stream. */
function elementary(path: string, map: string, format: string): Buffer {
  return execFileSync('ffmpeg', [
    ...['-v', 'error', '-i', path, '-map', map, '-c', 'copy'],
    ...(format === 'mp3' ? ['-write_xing', '0', '-id3v2_version', '0'] : []),
    ...['-f', format, '-'],
  ]);
}

async function readAll(
  input: MediaInput,
  kind: 'video' | 'audio',
  track = 0,
): Promise<Uint8Array[]> {
  const out: Uint8Array[] = [];
  for await (const s of input.read(kind, undefined, track)) {
    expect(s.index).toBe(out.length);
    expect(s.data.length).toBe(s.byteLength);
    out.push(s.data);
  }
  return out;
}

const open = async (name: FixtureName): Promise<MediaInput> =>
  openInput(await openAsBlob(fixturePath(name)));
const us = (ticks: number, start: number): number => Math.round(((ticks - start) * 100) / 9);

/** The earliest PTS ffprobe gives any of the streams the reader keeps. */
function firstTicks(packets: Probed[][]): number {
  return Math.min(...packets.flat().flatMap((p) => (p.pts === null ? [] : [p.pts])));
}

/**
 * The video of `name` against ffprobe's packets and ffmpeg's elementary stream: one packet a
 * picture, byte for byte, with its key flag, its PTS where the file gives one and a frame's
 * duration; every picture on its own display slot.
 */
async function checkVideo(
  name: FixtureName,
  format: string,
  fps: number,
  start: (video: Probed[]) => number,
): Promise<MediaInput> {
  const path = fixturePath(name);
  const input = await open(name);
  expect(input.container).toBe('mpegps');
  const v = input.video!;
  const probed = probePackets(path, 'v:0');
  const t = v.packets;
  expect(t.length).toBe(probed.length);
  expect(Array.from(t.byteLength)).toEqual(probed.map((p) => p.size));
  expect(Array.from(t.key, (k) => k === 1)).toEqual(probed.map((p) => p.key));
  const first = start(probed);
  probed.forEach((p, k) => {
    if (p.pts !== null) expect(t.timestampUs[k], `picture ${k}`).toBe(us(p.pts, first));
  });
  // pictures without their own PTS are placed too: one frame each, every slot filled
  const frameUs = 1e6 / fps;
  const shown = Array.from(t.timestampUs).sort((a, b) => a - b);
  const from = shown[0]!;
  shown.forEach((t, k) => expect(Math.abs(t - from - k * frameUs)).toBeLessThanOrEqual(1));
  expect(Array.from(t.durationUs).every((d) => Math.abs(d - frameUs) <= 1)).toBe(true);
  const bytes = Buffer.concat(await readAll(input, 'video'));
  expect(bytes.equals(elementary(path, 'v:0', format))).toBe(true);
  // the description is the first sequence header with its extensions, up to its GOP
  const description = v.decoderConfig.description as Uint8Array;
  expect(Array.from(description.subarray(0, 4))).toEqual([0, 0, 1, 0xb3]);
  const gop = bytes.indexOf(Buffer.from([0, 0, 1, 0xb8]));
  expect(Buffer.from(description).equals(bytes.subarray(0, gop))).toBe(true);
  return input;
}

describe('MPEG program stream reader', () => {
  it('sniffs MPEG-1 and MPEG-2 pack headers and a VCD’s RIFF CDXA file', () => {
    const head = (bytes: number[]): Uint8Array =>
      Uint8Array.from([...bytes, ...new Array<number>(12).fill(0)]);
    expect(sniffContainer(head([0, 0, 1, 0xba, 0x44]))).toBe('mpegps');
    expect(sniffContainer(head([0, 0, 1, 0xba, 0x21]))).toBe('mpegps');
    expect(sniffContainer(head([0, 0, 1, 0xba, 0x00]))).toBeNull();
    expect(sniffContainer(head([0, 0, 1, 0xb3, 0x16]))).toBeNull();
    const cdxa = [...'RIFF\0\0\0\0CDXA'].map((c) => c.charCodeAt(0));
    expect(sniffContainer(head(cdxa))).toBe('mpegps');
  });

  it('reads MPEG-2 video in an .mpg picture by picture, with its MP2 sound, as ffmpeg does', async () => {
    const path = fixturePath('mpeg2-mp2.mpg');
    const audioProbed = probePackets(path, 'a:0');
    const input = await checkVideo('mpeg2-mp2.mpg', 'mpeg2video', 24, (v) =>
      firstTicks([v, audioProbed]),
    );
    const v = input.video!;
    expect([v.codec, v.codecName, v.width, v.height, v.pixelAspect]).toEqual([
      'mpeg2',
      'MPEG-2',
      352,
      288,
      null,
    ]);
    expect(v.decoderConfig.codec).toBe('mpeg2');
    // decode order: I P B B ... shown I B B P
    const t = v.packets.timestampUs;
    [125_000, 41_667, 83_333].forEach((d, k) => expect(t[k + 1]! - t[0]!).toBeCloseTo(d, -1));
    // MP2 is kept (into MP4 as MPEG-1 audio): whole frames, with their times and bytes
    const a = input.audio!;
    expect([a.codec, a.muxCodec, a.codecName]).toEqual(['mp2', 'mp2', 'MP2']);
    expect(Array.from(a.packets.byteLength)).toEqual(audioProbed.map((p) => p.size));
    const bytes = Buffer.concat(await readAll(input, 'audio'));
    expect(bytes.equals(elementary(path, 'a:0', 'mp2'))).toBe(true);
    expect(input.warnings).toEqual([]);
  });

  it('reads MPEG-1 video with MP3 sound: whole MP3 frames with their times', async () => {
    const path = fixturePath('mpeg1-mp3.mpg');
    const audioProbed = probePackets(path, 'a:0');
    const input = await checkVideo('mpeg1-mp3.mpg', 'mpeg1video', 24, (v) =>
      firstTicks([v, audioProbed]),
    );
    expect([input.video!.codec, input.video!.codecName]).toEqual(['mpeg1', 'MPEG-1']);
    const a = input.audio!;
    expect([a.codec, a.muxCodec, a.codecName, a.channels, a.sampleRate]).toEqual([
      'mp3',
      'mp3',
      'MP3',
      1,
      48000,
    ]);
    const first = firstTicks([probePackets(path, 'v:0'), audioProbed]);
    expect(Array.from(a.packets.byteLength)).toEqual(audioProbed.map((p) => p.size));
    audioProbed.forEach((p, k) => {
      expect(Math.abs(a.packets.timestampUs[k]! - us(p.pts!, first)), `frame ${k}`).toBeLessThan(
        12,
      );
    });
    expect(a.packets.durationUs[0]).toBe(24_000);
    const bytes = Buffer.concat(await readAll(input, 'audio'));
    expect(bytes.equals(elementary(path, 'a:0', 'mp3'))).toBe(true);
    expect(input.warnings).toEqual([]);
  });

  it('reads a DVD’s VOB: pixels 16:15, both AC-3 tracks as whole frames', async () => {
    const path = fixturePath('dvd.vob');
    const audioProbed = [probePackets(path, 'a:0'), probePackets(path, 'a:1')];
    const input = await checkVideo('dvd.vob', 'mpeg2video', 25, (v) =>
      firstTicks([v, ...audioProbed]),
    );
    expect(input.video!.pixelAspect).toEqual([16, 15]);
    expect(input.video!.decoderConfig).toMatchObject({
      displayAspectWidth: 4,
      displayAspectHeight: 3,
    });
    expect(input.audioTracks).toHaveLength(2);
    const first = firstTicks([probePackets(path, 'v:0'), ...audioProbed]);
    for (const [n, a] of input.audioTracks.entries()) {
      expect([a.codec, a.muxCodec, a.codecName, a.channels, a.sampleRate]).toEqual([
        'ac-3',
        'ac3',
        'AC-3',
        2,
        48000,
      ]);
      const probed = audioProbed[n]!;
      expect(Array.from(a.packets.byteLength)).toEqual(probed.map((p) => p.size));
      expect(Array.from(a.packets.timestampUs)).toEqual(probed.map((p) => us(p.pts!, first)));
      expect(Array.from(a.packets.durationUs).every((d) => d === 32_000)).toBe(true);
      const frames = await readAll(input, 'audio', n);
      // each packet one whole AC-3 frame: its sync word, and the size its header gives
      for (const f of frames) expect(ac3Header(f, 0)?.size).toBe(f.length);
      expect(Buffer.concat(frames).equals(elementary(path, `0:a:${n}`, 'ac3'))).toBe(true);
    }
    // the two tracks are the two sounds (440 and 660 Hz), not one read twice
    const [one, two] = [await readAll(input, 'audio', 0), await readAll(input, 'audio', 1)];
    expect(Buffer.from(one[5]!).equals(Buffer.from(two[5]!))).toBe(false);
    expect(input.warnings).toEqual([]);
  });

  it('reads interlaced MPEG-2 with DVD LPCM sound kept as 16-bit big-endian PCM', async () => {
    const path = fixturePath('interlaced-lpcm.vob');
    const input = await checkVideo('interlaced-lpcm.vob', 'mpeg2video', 25, (v) =>
      firstTicks([v, probePackets(path, 'a:0')]),
    );
    expect(input.warnings).toEqual([INTERLACED_NOTE]);
    expect(input.video!.fieldOrder).toBeUndefined();
    const a = input.audio!;
    expect([a.codec, a.muxCodec, a.channels, a.sampleRate]).toEqual([
      'pcm-s16be',
      'pcm-s16be',
      2,
      48000,
    ]);
    const bytes = Buffer.concat(await readAll(input, 'audio'));
    const decoded = execFileSync('ffmpeg', ['-v', 'error', '-i', path, '-f', 's16be', '-']);
    expect(bytes.length).toBe(decoded.length);
    expect(bytes.equals(decoded)).toBe(true);
    // the packets follow one another sample for sample
    const t = a.packets;
    for (let k = 1; k < t.length; k++) {
      expect(
        Math.abs(t.timestampUs[k]! - t.timestampUs[k - 1]! - t.durationUs[k - 1]!),
      ).toBeLessThan(2);
    }
  });

  it('keeps every whole picture of a file cut short, and says so', async () => {
    const whole = await open('mpeg2-mp2.mpg');
    const cut = await open('mpeg2-cut.mpg');
    const all = await readAll(whole, 'video');
    const kept = await readAll(cut, 'video');
    expect(kept.length).toBeGreaterThan(20);
    expect(kept.length).toBeLessThan(all.length);
    // the cut-off picture is left out; the ones before are whole
    kept.forEach((p, k) => expect(Buffer.from(p).equals(Buffer.from(all[k]!)), `${k}`).toBe(true));
    expect(cut.video!.packets.timestampUs).toEqual(
      whole.video!.packets.timestampUs.subarray(0, kept.length),
    );
    expect(cut.warnings.join(' ')).toMatch(
      new RegExp(`This file ends inside a picture .*: it holds ${kept.length} whole frames`),
    );
    const bytes = readFileSync(fixturePath('mpeg2-mp2.mpg'));
    // cut in the middle of the first picture: nothing to show
    const dir = mkdtempSync(join(tmpdir(), 'upframe-ps-'));
    writeFileSync(join(dir, 'head.mpg'), bytes.subarray(0, 6000));
    const error = await openInput(await openAsBlob(join(dir, 'head.mpg'))).catch(
      (e: UpframeError) => e,
    );
    expect([(error as UpframeError).code, (error as UpframeError).message]).toEqual([
      'CORRUPT_INPUT',
      'This file is cut short before its first whole picture.',
    ]);
  });

  it('starts a file that begins inside a GOP and inside an audio frame at what can be read', async () => {
    // from the pack before the second sequence header on, as a copied part of a recording is
    const bytes = readFileSync(fixturePath('mpeg2-mp2.mpg'));
    const sequence = bytes.indexOf(Buffer.from([0, 0, 1, 0xb3]), 20_000);
    const pack = bytes.lastIndexOf(Buffer.from([0, 0, 1, 0xba]), sequence);
    const dir = mkdtempSync(join(tmpdir(), 'upframe-ps-'));
    writeFileSync(join(dir, 'part.mpg'), bytes.subarray(pack));
    const part = await openInput(await openAsBlob(join(dir, 'part.mpg')));
    const whole = await open('mpeg2-mp2.mpg');
    const all = await readAll(whole, 'video');
    const kept = await readAll(part, 'video');
    // the first picture is the key picture after that sequence header; the two B-pictures
    // after it are shown before it and refer to the GOP before (an open GOP): left out
    const from = all.findIndex((p) => Buffer.from(p).equals(Buffer.from(kept[0]!)));
    expect(from).toBeGreaterThan(0);
    expect([part.video!.packets.key[0], whole.video!.packets.key[from]]).toEqual([1, 1]);
    expect(
      all
        .slice(from + 1, from + 3)
        .map(
          (_, k) =>
            whole.video!.packets.timestampUs[from + 1 + k]! <
            whole.video!.packets.timestampUs[from]!,
        ),
    ).toEqual([true, true]);
    expect(kept.length).toBe(all.length - from - 2);
    kept
      .slice(1)
      .forEach((p, k) => expect(Buffer.from(p).equals(Buffer.from(all[from + 3 + k]!))).toBe(true));
    // the clip starts at its first packet kept: here the sound's, which the mux puts ahead
    expect(Math.min(part.video!.packets.timestampUs[0]!, part.audio!.packets.timestampUs[0]!)).toBe(
      0,
    );
    // its sound starts inside an MP2 frame: no stray sync word makes it another layer
    expect(part.audio?.codecName).toBe('MP2');
    expect(part.warnings).toEqual([]);
  });

  it('reads a VCD’s .dat file as the program stream its sectors hold', async () => {
    const input = await open('vcd.dat');
    expect(input.container).toBe('mpegps');
    const v = input.video!;
    expect([v.codec, v.width, v.height, v.packets.length]).toEqual(['mpeg1', 352, 288, 25]);
    expect(input.video!.packets.durationUs[0]).toBe(40_000);
    const frames = await readAll(input, 'video');
    expect(frames.every((f) => f.length > 0)).toBe(true);
    expect(Array.from(frames[0]!.subarray(0, 4))).toEqual([0, 0, 1, 0xb3]);
    const path = fixturePath('vcd.dat');
    expect(Buffer.concat(frames).equals(elementary(path, 'v:0', 'mpeg1video'))).toBe(true);
    // the sector headers between the packs are no damage
    expect(input.warnings.join(' ')).not.toContain('damaged');
  });

  it('keeps the times running across the 33-bit PTS wrap', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'upframe-ps-'));
    const wrap = join(dir, 'wrap.mpg');
    // 95443 s is a second before 2^33 ticks: the clock wraps in the middle of the clip
    execFileSync('ffmpeg', [
      ...['-v', 'error', '-i', fixturePath('mpeg2-mp2.mpg'), '-c', 'copy'],
      ...['-output_ts_offset', '95443', '-f', 'mpeg', wrap],
    ]);
    const wrapped = await openInput(await openAsBlob(wrap));
    const plain = await open('mpeg2-mp2.mpg');
    expect(wrapped.video!.packets.length).toBe(plain.video!.packets.length);
    const shown = Array.from(wrapped.video!.packets.timestampUs).sort((a, b) => a - b);
    expect(Math.abs(shown.at(-1)! - shown[0]! - (47 * 1e6) / 24)).toBeLessThanOrEqual(1);
  });

  it('says what is missing: no video, or no pack of it at all', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'upframe-ps-'));
    const sound = join(dir, 'sound.mpg');
    execFileSync('ffmpeg', [
      ...['-v', 'error', '-f', 'lavfi', '-i', 'sine', '-t', '0.5'],
      ...['-c:a', 'libmp3lame', '-f', 'mpeg', sound],
    ]);
    const codeOf = async (path: string): Promise<[string, string]> => {
      const e = (await openInput(await openAsBlob(path)).catch((x: unknown) => x)) as UpframeError;
      return [e.code, e.message];
    };
    expect(await codeOf(sound)).toEqual([
      'NO_VIDEO_TRACK',
      'This file has sound but no picture: Upframe needs a video track.',
    ]);
    // a pack header, then nothing a program stream holds
    const junk = join(dir, 'junk.mpg');
    const bytes = readFileSync(fixturePath('mpeg2-mp2.mpg')).subarray(0, 20_000);
    for (let i = 14; i < bytes.length; i++) bytes[i] = (i * 7919) & 0xff;
    writeFileSync(junk, bytes);
    expect((await codeOf(junk))[0]).toBe('NO_VIDEO_TRACK');
  });
});

describe('MPEG video elementary stream splitter', () => {
  const code = (c: number, ...rest: number[]): number[] => [0, 0, 1, c, ...rest];
  /** A picture header (temporal reference, type) and a picture coding extension. */
  const picture = (tr: number, type: number, structure: number, rff = false): number[] => [
    ...code(0, tr >> 2, ((tr & 3) << 6) | (type << 3), 0xff, 0xf8),
    ...code(0xb5, 0x8f, 0xff, 0xf0 | structure, 0x80 | (rff ? 2 : 0), 0x80),
    ...code(1, 0x11, 0x22, 0x33),
  ];
  const sequence = [
    ...code(0xb3, 0x2d, 0x02, 0x40, 0x33, 0xff, 0xff, 0xe0, 0x18),
    // sequence_extension: main profile, interlaced (progressive_sequence 0)
    ...code(0xb5, 0x14, 0x82, 0x00, 0x01, 0x00, 0x00),
  ];

  function split(bytes: number[], chunk: number): CodedPicture[] {
    const out: CodedPicture[] = [];
    const s = new MpegVideoSplitter((p) => out.push(p));
    for (let i = 0; i < bytes.length; i += chunk)
      s.push(Uint8Array.from(bytes.slice(i, i + chunk)));
    s.end(true);
    return out;
  }

  it('makes one picture of two field pictures and counts a repeated field', () => {
    const stream = [
      ...sequence,
      ...code(0xb8, 0, 8, 0, 0x40),
      ...picture(0, 1, 1),
      ...picture(0, 1, 2),
      ...picture(1, 2, 3, true),
      ...code(0xb7),
    ];
    for (const chunk of [1, 3, 7, stream.length]) {
      const pictures = split(stream, chunk);
      expect(pictures.map((p) => [p.start, p.type, p.fields, p.sequenceHeader])).toEqual([
        [0, 1, 2, true],
        [stream.length - 4 - picture(1, 2, 3).length, 2, 3, false],
      ]);
      expect(pictures[0]!.end).toBe(pictures[1]!.start);
      expect(pictures[1]!.end).toBe(stream.length - 4);
    }
    const s = new MpegVideoSplitter(() => {});
    s.push(Uint8Array.from(stream));
    expect(s.sequence).toMatchObject({ mpeg2: true, width: 720, height: 576, progressive: false });
    expect(Array.from(s.sequenceBytes!)).toEqual(sequence);
  });
});
