import { execFileSync } from 'node:child_process';
import { mkdtempSync, openAsBlob, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureMediaFixtures, fixturePath, type FixtureName } from '../../test/media-fixtures.ts';
import type { UpframeError } from '../shared/errors.ts';
import { INTERLACED_NOTE } from './h264-sps.ts';
import { openInput } from './input.ts';
import type { MediaInput } from './input-types.ts';
import { ac3Header } from './mpeg-audio-es.ts';

// Transport streams with MPEG-2 video, read by Upframe's own scan, against ffprobe and ffmpeg.
beforeAll(() => {
  ensureMediaFixtures();
}, 120_000);

interface Probed {
  pts: number;
  size: number;
  key: boolean;
}

/** ffprobe's packets of one stream (90 kHz ticks). */
function probePackets(name: FixtureName, stream: string): Probed[] {
  return execFileSync(
    'ffprobe',
    [
      ...['-v', 'error', '-select_streams', stream],
      ...['-show_entries', 'packet=pts,size,flags', '-of', 'csv=p=0', fixturePath(name)],
    ],
    { encoding: 'utf8' },
  )
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => {
      const [pts, size, flags] = l.split(',');
      return { pts: Number(pts), size: Number(size), key: flags!.startsWith('K') };
    });
}

/** A stream's bytes as ffmpeg copies them out of the file. */
function elementary(name: FixtureName, map: string, format: string, bsf?: string): Buffer {
  return execFileSync(
    'ffmpeg',
    [
      ...['-v', 'error', '-i', fixturePath(name), '-map', map, '-c', 'copy'],
      ...(bsf ? ['-bsf:a', bsf] : []),
      ...['-f', format, '-'],
    ],
    { maxBuffer: 64 << 20 },
  );
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

/**
 * The video and every audio track of `name` against ffprobe's packets (count, sizes, key flags,
 * times from the earliest packet) and ffmpeg's elementary streams, byte for byte.
 */
async function check(
  name: FixtureName,
  fps: number,
  audioFormat: string,
  audioTracks: number,
): Promise<MediaInput> {
  const input = await open(name);
  expect(input.container).toBe('mpegts');
  const v = input.video!;
  const probed = probePackets(name, 'v:0');
  const audio = Array.from({ length: audioTracks }, (_, n) => probePackets(name, `a:${n}`));
  const first = Math.min(...[probed, ...audio].flat().map((p) => p.pts));
  const t = v.packets;
  expect(t.length).toBe(probed.length);
  expect(Array.from(t.byteLength)).toEqual(probed.map((p) => p.size));
  expect(Array.from(t.key, (k) => k === 1)).toEqual(probed.map((p) => p.key));
  expect(Array.from(t.timestampUs)).toEqual(probed.map((p) => us(p.pts, first)));
  expect(Array.from(t.durationUs).every((d) => Math.abs(d - 1e6 / fps) <= 1)).toBe(true);
  const bytes = Buffer.concat(await readAll(input, 'video'));
  expect(bytes.equals(elementary(name, 'v:0', 'mpeg2video'))).toBe(true);
  const description = v.decoderConfig.description as Uint8Array;
  expect(Buffer.from(description).equals(bytes.subarray(0, description.length))).toBe(true);
  expect(input.audioTracks).toHaveLength(audioTracks);
  for (const [n, a] of input.audioTracks.entries()) {
    const p = audio[n]!;
    const aac = audioFormat === 'aac';
    // AAC's packets leave the 7-byte ADTS header out
    expect(Array.from(a.packets.byteLength)).toEqual(p.map((x) => x.size - (aac ? 7 : 0)));
    expect(Array.from(a.packets.timestampUs)).toEqual(p.map((x) => us(x.pts, first)));
    const frames = await readAll(input, 'audio', n);
    const copied = aac
      ? elementary(name, `0:a:${n}`, 'data', 'aac_adtstoasc')
      : elementary(name, `0:a:${n}`, audioFormat);
    expect(Buffer.concat(frames).equals(copied)).toBe(true);
  }
  return input;
}

const tmp = (): string => mkdtempSync(join(tmpdir(), 'upframe-ts-'));

describe('MPEG-2 video in transport streams', () => {
  it('a recording with B-pictures and MP2: every picture and frame as ffmpeg has them', async () => {
    const input = await check('mpeg2-mp2.ts', 24, 'mp2', 1);
    const v = input.video!;
    expect([v.codec, v.codecName, v.width, v.height, v.pixelAspect]).toEqual([
      'mpeg2',
      'MPEG-2',
      320,
      180,
      null,
    ]);
    const a = input.audio!;
    expect([a.codec, a.muxCodec, a.codecName, a.decoderConfig.codec]).toEqual([
      'mp2',
      'mp2',
      'MP2',
      'mp4a.6b',
    ]);
    expect(input.warnings).toEqual([]);
    // decode order with B-pictures: times do not rise one by one
    const times = Array.from(v.packets.timestampUs);
    expect(times).not.toEqual([...times].sort((x, y) => x - y));
    // a range from a later key picture reads the same packets as the whole
    const all = await readAll(input, 'video');
    const key = Array.from(v.packets.key).indexOf(1, 1);
    expect(key).toBeGreaterThan(0);
    const later = [];
    for await (const p of input.read('video', { from: key, to: key + 3 })) later.push(p);
    expect(later.map((p) => [p.index, p.key, p.timestampUs])).toEqual(
      [0, 1, 2].map((k) => [key + k, k === 0, times[key + k]]),
    );
    later.forEach((p, k) =>
      expect(Buffer.from(p.data).equals(Buffer.from(all[key + k]!))).toBe(true),
    );
  });

  it('DVB SD television: interlaced 16:9, two AC-3 tracks with their languages', async () => {
    const input = await check('dvb-ac3.ts', 25, 'ac3', 2);
    const v = input.video!;
    expect([v.width, v.height, v.pixelAspect]).toEqual([720, 576, [64, 45]]);
    expect(v.fieldOrder).toBeUndefined();
    expect(input.warnings).toEqual([INTERLACED_NOTE]);
    expect(input.audioTracks.map((a) => [a.codec, a.muxCodec, a.channels, a.language])).toEqual([
      ['ac-3', 'ac3', 2, 'eng'],
      ['ac-3', 'ac3', 2, 'deu'],
    ]);
    const [one, two] = [await readAll(input, 'audio', 0), await readAll(input, 'audio', 1)];
    for (const f of one) expect(ac3Header(f, 0)?.size).toBe(f.length);
    // two sounds (440 and 660 Hz), not one read twice
    expect(Buffer.from(one[5]!).equals(Buffer.from(two[5]!))).toBe(false);
  });

  it('HDV-like 1440x1080i in 192-byte M2TS packets', async () => {
    // a 4-byte time code before each packet's sync byte
    const head = readFileSync(fixturePath('hdv.m2t')).subarray(0, 400);
    expect([head[4], head[196], head[388]]).toEqual([0x47, 0x47, 0x47]);
    const input = await check('hdv.m2t', 25, 'ac3', 1);
    const v = input.video!;
    expect([v.width, v.height, v.pixelAspect]).toEqual([1440, 1080, [4, 3]]);
    expect(input.warnings).toEqual([INTERLACED_NOTE]);
    expect(Array.from(v.packets.key).filter((k) => k === 1)).toHaveLength(
      probePackets('hdv.m2t', 'v:0').filter((p) => p.key).length,
    );
  });

  it('AAC in ADTS: raw frames with an AudioSpecificConfig from the header', async () => {
    const input = await check('mpeg2-aac.ts', 24, 'aac', 1);
    const a = input.audio!;
    expect([a.codec, a.muxCodec, a.channels, a.sampleRate]).toEqual(['mp4a.40.2', 'aac', 1, 48000]);
    // AAC-LC, 48 kHz (index 3), mono: what ffmpeg writes into an MP4 of the same sound
    expect(Array.from(a.decoderConfig.description as Uint8Array)).toEqual([0x11, 0x88]);
    expect(a.packets.durationUs[0]).toBe(21_333);
  });

  it('a recording that starts inside a GOP starts at its first key picture', async () => {
    const whole = await open('mpeg2-mp2.ts');
    const part = await open('mpeg2-part.ts');
    const all = await readAll(whole, 'video');
    const kept = await readAll(part, 'video');
    const from = all.findIndex((p) => Buffer.from(p).equals(Buffer.from(kept[0]!)));
    expect(from).toBeGreaterThan(0);
    expect([part.video!.packets.key[0], whole.video!.packets.key[from]]).toEqual([1, 1]);
    // the first key picture has its sequence header, which the decoder is configured with
    expect(Array.from(kept[0]!.subarray(0, 4))).toEqual([0, 0, 1, 0xb3]);
    expect(kept.length).toBeGreaterThanOrEqual(all.length - from - 2);
    const rest = kept.slice(kept.length - (all.length - from - 3));
    rest.forEach((p, k) =>
      expect(Buffer.from(p).equals(Buffer.from(all[all.length - rest.length + k]!))).toBe(true),
    );
    const starts = [part.video!.packets.timestampUs[0]!, part.audio!.packets.timestampUs[0]!];
    expect(Math.min(...starts)).toBe(0);
    // its sound starts inside an MP2 frame: still MP2, its frames whole
    expect(part.audio?.codecName).toBe('MP2');
    expect(part.warnings).toEqual([]);
  });

  it('a recording cut short keeps its whole pictures and says so', async () => {
    const whole = await open('mpeg2-mp2.ts');
    const cut = await open('mpeg2-cut.ts');
    const all = await readAll(whole, 'video');
    const kept = await readAll(cut, 'video');
    expect(kept.length).toBeGreaterThan(10);
    expect(kept.length).toBeLessThan(all.length);
    kept.forEach((p, k) => expect(Buffer.from(p).equals(Buffer.from(all[k]!)), `${k}`).toBe(true));
    expect(cut.video!.packets.timestampUs).toEqual(
      whole.video!.packets.timestampUs.subarray(0, kept.length),
    );
    expect(cut.warnings.join(' ')).toMatch(
      new RegExp(`This recording is cut short inside a picture: it holds ${kept.length} whole`),
    );
    // cut inside the first picture: nothing to show
    const dir = tmp();
    const bytes = readFileSync(fixturePath('mpeg2-mp2.ts'));
    writeFileSync(join(dir, 'head.ts'), bytes.subarray(0, 188 * 30));
    const error = (await openInput(await openAsBlob(join(dir, 'head.ts'))).catch(
      (e: unknown) => e,
    )) as UpframeError;
    expect([error.code, error.message]).toEqual([
      'CORRUPT_INPUT',
      'This file is cut short before its first whole picture.',
    ]);
  });

  it('keeps the times running across the 33-bit PTS wrap', async () => {
    const dir = tmp();
    const wrap = join(dir, 'wrap.ts');
    // 95443 s is a second before 2^33 ticks: the clock wraps in the middle of the clip
    execFileSync('ffmpeg', [
      ...['-v', 'error', '-i', fixturePath('mpeg2-mp2.ts'), '-c', 'copy'],
      ...['-output_ts_offset', '95443', '-f', 'mpegts', wrap],
    ]);
    const wrapped = await openInput(await openAsBlob(wrap));
    const plain = await open('mpeg2-mp2.ts');
    expect(Array.from(wrapped.video!.packets.timestampUs)).toEqual(
      Array.from(plain.video!.packets.timestampUs),
    );
  });

  it('a scrambled recording (pay TV without its key) is named as such', async () => {
    const dir = tmp();
    const bytes = Buffer.from(readFileSync(fixturePath('mpeg2-mp2.ts')));
    // every video packet scrambled (its payload unreadable, its scrambling bits set)
    for (let at = 0; at + 188 <= bytes.length; at += 188) {
      if ((((bytes[at + 1]! & 0x1f) << 8) | bytes[at + 2]!) !== 0x100) continue;
      bytes[at + 3] = bytes[at + 3]! | 0x80;
      for (let i = at + 4; i < at + 188; i++) bytes[i] = bytes[i]! ^ 0x5a;
    }
    const path = join(dir, 'scrambled.ts');
    writeFileSync(path, bytes);
    const error = (await openInput(await openAsBlob(path)).catch(
      (e: unknown) => e,
    )) as UpframeError;
    expect([error.code, error.message]).toEqual([
      'UNSUPPORTED_CODEC',
      'This recording is encrypted (scrambled pay TV): only the receiver that recorded it can ' +
        'play it, so Upframe cannot read its picture.',
    ]);
  });

  it('reads 204-byte packets (16 bytes of error correction after each) as the 188-byte ones', async () => {
    const dir = tmp();
    const bytes = readFileSync(fixturePath('mpeg2-mp2.ts'));
    const parts: Buffer[] = [];
    for (let at = 0; at + 188 <= bytes.length; at += 188) {
      parts.push(bytes.subarray(at, at + 188), Buffer.alloc(16, 0x47));
    }
    const path = join(dir, 'rs.ts');
    writeFileSync(path, Buffer.concat(parts));
    const input = await openInput(await openAsBlob(path));
    const whole = await open('mpeg2-mp2.ts');
    expect(input.video!.packets.timestampUs).toEqual(whole.video!.packets.timestampUs);
    const [a, b] = [await readAll(input, 'video'), await readAll(whole, 'video')];
    expect(Buffer.concat(a).equals(Buffer.concat(b))).toBe(true);
    const [c, d] = [await readAll(input, 'audio'), await readAll(whole, 'audio')];
    expect(Buffer.concat(c).equals(Buffer.concat(d))).toBe(true);
  });

  it('lost sync in the middle is passed over to the next packets', async () => {
    const dir = tmp();
    const bytes = Buffer.from(readFileSync(fixturePath('mpeg2-mp2.ts')));
    // three bytes lost in the middle of the file: every packet after them is three bytes early
    const at = 188 * Math.floor(bytes.length / 376) + 50;
    const damaged = join(dir, 'damaged.ts');
    writeFileSync(damaged, Buffer.concat([bytes.subarray(0, at), bytes.subarray(at + 3)]));
    const input = await openInput(await openAsBlob(damaged));
    const whole = await open('mpeg2-mp2.ts');
    expect(input.video!.packets.length).toBeGreaterThan(whole.video!.packets.length - 3);
    const frames = await readAll(input, 'video');
    const all = await readAll(whole, 'video');
    // the last pictures are whole again
    expect(Buffer.from(frames.at(-1)!).equals(Buffer.from(all.at(-1)!))).toBe(true);
  });
});
