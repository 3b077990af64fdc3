import { execFileSync } from 'node:child_process';
import { mkdtempSync, openAsBlob, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { INTERLACED_NOTE } from './h264-sps.ts';
import { openInput } from './input.ts';
import { mpegVideoEntry } from './mov-tracks.ts';
import { mpegFields, mpegUnreadable } from './mpeg-video-decoder.ts';
import { MpegPictures, pixelAspect, sequenceFacts } from './mpeg2/stream-facts.ts';
import { undecodableError } from './probe.ts';

// MPEG-1/MPEG-2 video in the containers other than program streams: what a reader says of it
// before decoding (codec, sequence header, aspect, fields), as ffmpeg wrote it.
let dir = '';
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'mpeg-video-'));
});

function make(name: string, args: string[]): string {
  const out = join(dir, name);
  execFileSync('ffmpeg', [
    ...['-hide_banner', '-loglevel', 'error', '-y'],
    ...['-f', 'lavfi', '-i', 'testsrc2=size=720x576:rate=25', '-frames:v', '6', ...args, out],
  ]);
  return out;
}

describe('MPEG video in MOV, MP4 and Matroska', () => {
  it('names the sample entries cameras and editors write', () => {
    expect(mpegVideoEntry('m2v1')).toBe('mpeg2');
    expect(mpegVideoEntry('hdv3')).toBe('mpeg2');
    expect(mpegVideoEntry('xdvc')).toBe('mpeg2');
    expect(mpegVideoEntry('xd5b')).toBe('mpeg2');
    expect(mpegVideoEntry('mx5p')).toBe('mpeg2');
    expect(mpegVideoEntry('m1v ')).toBe('mpeg1');
    // MP4's 'mp4v' by its object type: MPEG-2 main, MPEG-1, MPEG-4 Part 2 (not ours)
    expect(mpegVideoEntry('mp4v', 0x61)).toBe('mpeg2');
    expect(mpegVideoEntry('mp4v', 0x6a)).toBe('mpeg1');
    expect(mpegVideoEntry('mp4v', 0x20)).toBeNull();
    expect(mpegVideoEntry('avc1')).toBeNull();
  });

  it('reads a 16:9 interlaced DVD picture in MOV: its sequence header, pixel shape and fields', async () => {
    const path = make('dvd.mov', [
      ...['-c:v', 'mpeg2video', '-flags', '+ilme+ildct', '-top', '0', '-aspect', '16:9'],
    ]);
    const input = await openInput(await openAsBlob(path));
    const v = input.video!;
    expect([v.codec, v.codecName, v.width, v.height]).toEqual(['mpeg2', 'MPEG-2', 720, 576]);
    const seq = sequenceFacts(new Uint8Array(v.decoderConfig.description as ArrayBuffer));
    expect(seq).toMatchObject({ mpeg2: true, progressive: false, aspectCode: 3 });
    // 16:9 over 720x576: each pixel 64:45 as wide as it is tall
    expect(pixelAspect(seq!)).toEqual([64, 45]);
    expect(mpegFields(v)).toBe(true);
    expect(input.warnings).toContain(INTERLACED_NOTE);
    // bottom field first, as every picture says
    const pictures = new MpegPictures();
    for await (const s of input.read('video')) expect(pictures.scan(s.data)).toBe('bottom-first');
    expect(mpegUnreadable(v.decoderConfig)).toBeNull();
    input.close();
  });

  it('reads progressive MPEG-1 in MP4 as progressive, with square pixels', async () => {
    const path = make('vcd.mp4', ['-vf', 'scale=352:288,setsar=1', '-c:v', 'mpeg1video']);
    const input = await openInput(await openAsBlob(path));
    const v = input.video!;
    expect([v.codec, v.codecName, v.width, v.height, v.pixelAspect]).toEqual([
      'mpeg1',
      'MPEG-1',
      352,
      288,
      null,
    ]);
    expect(input.warnings).not.toContain(INTERLACED_NOTE);
    const pictures = new MpegPictures();
    for await (const s of input.read('video')) expect(pictures.scan(s.data)).toBe('progressive');
    input.close();
  });

  it('refuses 4:2:2 MPEG-2 (XDCAM HD422, IMX) with what it is and what to do', async () => {
    const path = make('hd422.mov', ['-c:v', 'mpeg2video', '-pix_fmt', 'yuv422p']);
    const input = await openInput(await openAsBlob(path));
    const v = input.video!;
    expect(v.codec).toBe('mpeg2');
    expect(mpegUnreadable(v.decoderConfig)).toMatch(/4:2:2/);
    const error = undecodableError(v);
    expect(error.code).toBe('UNSUPPORTED_CODEC');
    expect(error.message).toMatch(/^This MPEG-2 video cannot be decoded: its colour is 4:2:2/);
    input.close();
  });

  it('takes a Matroska file’s sequence header from its first picture when CodecPrivate has none', async () => {
    const path = make('rip.mkv', ['-c:v', 'mpeg2video']);
    const input = await openInput(await openAsBlob(path));
    const description = new Uint8Array(input.video!.decoderConfig.description as ArrayBuffer);
    const stream = readFileSync(path);
    // the same bytes as the sequence header in the file
    const at = stream.indexOf(Buffer.from([0, 0, 1, 0xb3]));
    expect(Buffer.from(description).equals(stream.subarray(at, at + description.length))).toBe(
      true,
    );
    input.close();
  });

  it('names MP2 sound MP2 in an H.264 TV recording and in Matroska, and keeps it for MP4', async () => {
    // mediabunny 1.61 calls it MP3 in a transport stream, and knows no A_MPEG/L2 in Matroska
    for (const name of ['dvb-h264.ts', 'dvd-rip.mkv']) {
      const path = join(dir, name);
      execFileSync('ffmpeg', [
        ...['-hide_banner', '-loglevel', 'error', '-y'],
        ...['-f', 'lavfi', '-i', 'testsrc2=size=320x180', '-f', 'lavfi', '-i', 'sine'],
        ...['-t', '0.5', '-c:v', 'libx264', '-c:a', 'mp2', path],
      ]);
      const input = await openInput(await openAsBlob(path));
      const a = input.audio!;
      expect([a.codec, a.muxCodec, a.codecName, a.decoderConfig.codec], name).toEqual([
        'mp2',
        'mp2',
        'MP2',
        'mp4a.6b',
      ]);
      input.close();
    }
  });
});
