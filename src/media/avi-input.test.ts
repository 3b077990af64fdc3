import { execFileSync } from 'node:child_process';
import { mkdtempSync, openAsBlob, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureMediaFixtures, fixturePath } from '../../test/media-fixtures.ts';
import type { UpframeError } from '../shared/errors.ts';
import { AviInput } from './avi-input.ts';
import { Mpeg2Decoder } from './mpeg2/decoder.ts';
import { openInput, sniffContainer } from './input.ts';

// AVI parsing runs in Node; ffmpeg made the files and ffprobe says what is in them.
beforeAll(() => {
  ensureMediaFixtures();
}, 60_000);

/** The sizes of ffprobe's packets of one stream. */
function probePackets(path: string, stream: string): number[] {
  const out = execFileSync(
    'ffprobe',
    [
      ...['-v', 'quiet', '-select_streams', stream, '-show_entries', 'packet=size'],
      ...['-of', 'csv=p=0', path],
    ],
    { encoding: 'utf8' },
  );
  return out
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((l) => Number(l.split(',')[0]));
}

const u32le = (v: number): number[] => [v & 255, (v >>> 8) & 255, (v >>> 16) & 255, v >>> 24];
const u16le = (v: number): number[] => [v & 255, (v >>> 8) & 255];
const ascii = (s: string): number[] => [...s].map((c) => c.charCodeAt(0));

/**
 * The fixture with an OpenDML index too, as files over 1 GB carry it: each stream's JUNK
 * placeholder (ffmpeg reserves one in every strl) becomes an `indx` super index pointing at an
 * `ix##` chunk appended after the file, built from the file's idx1.
 */
function withOpenDmlIndex(
  bytes: Buffer,
  /** What the super index says of each ix chunk's size: with its 8-byte header or without. */
  sizes: 'whole' | 'body' = 'whole',
): Uint8Array<ArrayBuffer> {
  const movi = bytes.indexOf(Buffer.from('movi'));
  const idx1 = bytes.indexOf(Buffer.from('idx1'));
  const entries = bytes.readUInt32LE(idx1 + 4) / 16;
  const perStream = new Map<string, { offset: number; size: number; key: boolean }[]>();
  for (let e = 0; e < entries; e++) {
    const at = idx1 + 8 + 16 * e;
    const id = bytes.toString('latin1', at, at + 4);
    const list = perStream.get(id) ?? [];
    list.push({
      offset: movi + bytes.readUInt32LE(at + 8) + 8,
      size: bytes.readUInt32LE(at + 12),
      key: (bytes.readUInt32LE(at + 4) & 0x10) !== 0,
    });
    perStream.set(id, list);
  }
  const out = Array.from(bytes);
  let junkFrom = 0;
  for (const [id, list] of perStream) {
    const ixAt = out.length;
    const body = [
      ...u16le(2),
      0,
      1,
      ...u32le(list.length),
      ...ascii(id),
      ...u32le(0),
      ...u32le(0),
      ...u32le(0),
      ...list.flatMap((c) => [...u32le(c.offset), ...u32le(c.size + (c.key ? 0 : 2 ** 31))]),
    ];
    out.push(...ascii(`ix${id.slice(0, 2)}`), ...u32le(body.length), ...body);
    const indx = [
      ...u16le(4),
      0,
      0,
      ...u32le(1),
      ...ascii(id),
      ...u32le(0),
      ...u32le(0),
      ...u32le(0),
      ...u32le(ixAt),
      ...u32le(0),
      ...u32le(sizes === 'whole' ? 8 + body.length : body.length),
      ...u32le(list.length),
    ];
    // the JUNK of this stream's strl (the streams' strl lists come in stream order)
    const junk = bytes.indexOf(Buffer.from('JUNK'), junkFrom);
    junkFrom = junk + 4;
    out.splice(junk, 4, ...ascii('indx'));
    out.splice(junk + 8, indx.length, ...indx);
  }
  return Uint8Array.from(out);
}

describe('AVI reader', () => {
  it('sniffs RIFF AVI, not other RIFF files', () => {
    const head = (type: string): Uint8Array =>
      Uint8Array.from([...ascii('RIFF'), ...u32le(100), ...ascii(type)]);
    expect(sniffContainer(head('AVI '))).toBe('avi');
    expect(sniffContainer(head('WAVE'))).toBeNull();
  });

  it('reads a camera clip’s Motion JPEG and PCM packets as ffprobe does, with their times', async () => {
    const path = fixturePath('mjpeg.avi');
    const input = await openInput(await openAsBlob(path));
    expect(input.container).toBe('avi');
    const v = input.video!;
    expect([v.codec, v.codecName, v.width, v.height]).toEqual(['mjpeg', 'Motion JPEG', 320, 180]);
    expect(Array.from(v.packets.byteLength)).toEqual(probePackets(path, 'v:0'));
    // frame k at k / 24 s
    expect(Array.from(v.packets.timestampUs)).toEqual(
      Array.from({ length: 24 }, (_, k) => Math.round((k * 1e6) / 24)),
    );
    expect(Array.from(v.packets.key).every((k) => k === 1)).toBe(true);
    const a = input.audio!;
    expect([a.codec, a.muxCodec, a.channels, a.sampleRate]).toEqual([
      'pcm-s16',
      'pcm-s16',
      2,
      48000,
    ]);
    const sizes = probePackets(path, 'a:0');
    expect(Array.from(a.packets.byteLength)).toEqual(sizes);
    // a PCM packet's time counts the bytes before it: 4 bytes a sample frame at 48 kHz
    const before = sizes.slice(0, 5).reduce((s, n) => s + n, 0);
    expect(a.packets.timestampUs[5]).toBeCloseTo((before / 4 / 48000) * 1e6, 6);
    // each packet's bytes: a whole JPEG picture (SOI to EOI)
    for await (const s of input.read('video', { from: 3, to: 5 })) {
      expect([s.data[0], s.data[1]]).toEqual([0xff, 0xd8]);
      expect([s.data.at(-2), s.data.at(-1)]).toEqual([0xff, 0xd9]);
      expect(s.index === 3 || s.index === 4).toBe(true);
    }
    expect(input.warnings).toEqual([]);
  });

  it('finds the same packets by its OpenDML index, by idx1 and by walking the chunks', async () => {
    const bytes = readFileSync(fixturePath('mjpeg.avi'));
    const odml = new Blob([withOpenDmlIndex(bytes)]);
    const tables = [];
    for (const [blob, index] of [
      [odml, 'odml'],
      // a writer whose super index gives the ix chunks' size without their header
      [new Blob([withOpenDmlIndex(bytes, 'body')]), 'odml'],
      [odml, 'idx1'],
      [odml, 'walk'],
      [new Blob([Uint8Array.from(bytes)]), 'auto'],
    ] as const) {
      const input = await AviInput.open(blob, index);
      const read: number[] = [];
      for await (const s of input.read('audio')) read.push(s.data.length, s.data[7]!);
      tables.push({
        video: Array.from(input.video.packets.byteLength),
        times: Array.from(input.video.packets.timestampUs),
        audio: Array.from(input.audio!.packets.byteLength),
        read,
      });
    }
    expect(tables[0]!.video.length).toBe(24);
    for (const t of tables.slice(1)) expect(t).toEqual(tables[0]);
    // a file without an OpenDML index cannot be read by one
    await expect(AviInput.open(new Blob([Uint8Array.from(bytes)]), 'odml')).rejects.toThrow(
      /no odml index/,
    );
  });

  it('a recording cut short (no index, a chunk cut in half) keeps its whole frames and says so', async () => {
    const input = await openInput(await openAsBlob(fixturePath('mjpeg-cut.avi')));
    expect(input.video!.packets.length).toBe(14);
    expect(input.warnings).toEqual([
      'This file is cut short: it holds 14 frames (0.6 s of 1.0 s). Upframe enhances what is there.',
    ]);
    let n = 0;
    for await (const s of input.read('video')) {
      expect([s.data[0], s.data[1], s.data.at(-2), s.data.at(-1)]).toEqual([
        0xff, 0xd8, 0xff, 0xd9,
      ]);
      n++;
    }
    expect(n).toBe(14);
  });

  it('names video it cannot decode', async () => {
    const xvid = await openInput(await openAsBlob(fixturePath('xvid.avi')));
    expect(xvid.video!.codecName).toBe('MPEG-4 Part 2 (Xvid/DivX)');
    const dir = mkdtempSync(join(tmpdir(), 'upframe-avi-'));
    // not a file of frames: a header and nothing else
    writeFileSync(join(dir, 'empty.avi'), readFileSync(fixturePath('mjpeg.avi')).subarray(0, 9000));
    const empty = await openInput(await openAsBlob(join(dir, 'empty.avi'))).catch(
      (e: unknown) => e,
    );
    expect((empty as UpframeError).code).toBe('CORRUPT_INPUT');
  });

  it('keeps a dashcam’s IMA ADPCM and a camera’s 8-bit sound as 16-bit PCM, the samples ffmpeg decodes', async () => {
    for (const [name, channels, rate] of [
      ['dashcam.avi', 2, 16000],
      ['camera-u8.avi', 1, 11025],
    ] as const) {
      const path = fixturePath(name);
      const input = await openInput(await openAsBlob(path));
      const a = input.audio!;
      expect([a.codec, a.muxCodec, a.keptAs, a.channels, a.sampleRate], name).toEqual([
        'pcm-s16',
        'pcm-s16',
        '16-bit PCM',
        channels,
        rate,
      ]);
      // named as the file has it: the summary says it is kept as 16-bit PCM
      expect(a.codecName, name).toBe(name === 'dashcam.avi' ? 'IMA ADPCM' : 'PCM (8-bit)');
      const parts: Uint8Array[] = [];
      let end = 0;
      for await (const s of input.read('audio')) {
        // each packet holds what its table entry says, and starts where the one before ended
        expect(s.data.length, name).toBe(s.byteLength);
        expect(s.timestampUs, name).toBeCloseTo(end, 3);
        end = s.timestampUs + s.durationUs;
        expect(s.durationUs, name).toBeCloseTo((s.data.length / 2 / channels / rate) * 1e6, 3);
        parts.push(s.data);
      }
      const decoded = execFileSync('ffmpeg', ['-v', 'error', '-i', path, '-f', 's16le', '-'], {
        maxBuffer: 1 << 26,
      });
      expect(decoded.length, name).toBeGreaterThan(rate);
      expect(Buffer.concat(parts).equals(decoded), name).toBe(true);
    }
  });

  it('a recording left open (sizes unset, no index, no frame count) opens whole and says so', async () => {
    const whole = readFileSync(fixturePath('mjpeg.avi'));
    const movi = whole.indexOf(Buffer.from('movi')) - 8;
    const idx1 = whole.indexOf(Buffer.from('idx1'));
    const open = Buffer.from(whole.subarray(0, idx1));
    open.writeUInt32LE(0, 4); // RIFF size
    open.writeUInt32LE(0, movi + 4); // movi size
    open.writeUInt32LE(0, open.indexOf(Buffer.from('avih')) + 8 + 16); // dwTotalFrames
    const input = await openInput(new Blob([Uint8Array.from(open)]));
    expect(input.video!.packets.length).toBe(24);
    expect(input.audio!.packets.length).toBe(probePackets(fixturePath('mjpeg.avi'), 'a:0').length);
    expect(input.warnings).toEqual([
      'This file was not closed by its recorder (it may have lost power): it holds 24 frames ' +
        '(0:01). Upframe enhances what is there.',
    ]);
  });

  it('an index that stops early (idx1 cut short, an empty OpenDML index) is followed by a walk', async () => {
    const whole = readFileSync(fixturePath('mjpeg.avi'));
    const full = await AviInput.open(new Blob([Uint8Array.from(whole)]));
    const idx1 = whole.indexOf(Buffer.from('idx1'));
    // the file ends after idx1's seventh entry
    const cut = await AviInput.open(
      new Blob([Uint8Array.from(whole.subarray(0, idx1 + 8 + 7 * 16))]),
    );
    // an OpenDML index with no entries, as a recorder leaves it until the file is closed
    const empty = Buffer.from(withOpenDmlIndex(whole));
    for (
      let at = empty.indexOf(Buffer.from('indx'));
      at >= 0;
      at = empty.indexOf(Buffer.from('indx'), at + 4)
    ) {
      empty.writeUInt32LE(0, at + 8 + 4); // nEntriesInUse
    }
    const walked = await AviInput.open(new Blob([Uint8Array.from(empty)]));
    for (const input of [cut, walked]) {
      expect(Array.from(input.video.packets.byteLength)).toEqual(
        Array.from(full.video.packets.byteLength),
      );
      expect(Array.from(input.audio!.packets.timestampUs)).toEqual(
        Array.from(full.audio!.packets.timestampUs),
      );
      expect(input.warnings).toEqual([]);
    }
  });

  it('reads H.264 without B-frames (a dashcam’s), its key frames from the index or, walked, from the pictures', async () => {
    const path = fixturePath('h264.avi');
    const bytes = readFileSync(path);
    const input = await AviInput.open(new Blob([Uint8Array.from(bytes)]));
    const v = input.video;
    expect([v.codecName, v.width, v.height]).toEqual(['H.264', 320, 180]);
    expect(v.decoderConfig.codec).toMatch(/^avc1\.[0-9a-f]{6}$/);
    expect(v.decoderConfig.description).toBeUndefined();
    expect(Array.from(v.packets.byteLength)).toEqual(probePackets(path, 'v:0'));
    // a key frame every 12 (the fixture's GOP), as idx1 flags them and as IDR pictures are
    const keys = (t: typeof v.packets): number[] =>
      Array.from(t.key).flatMap((k, i) => (k ? [i] : []));
    expect(keys(v.packets)).toEqual([0, 12]);
    const walked = await AviInput.open(new Blob([Uint8Array.from(bytes)]), 'walk');
    expect(keys(walked.video.packets)).toEqual([0, 12]);
  });

  it('puts parameter sets kept in the stream format (ffmpeg’s global header) in each IDR picture', async () => {
    const input = await AviInput.open(await openAsBlob(fixturePath('h264-global.avi')));
    const unitTypes = (d: Uint8Array): number[] => {
      const types: number[] = [];
      for (let i = 0; i + 3 < d.length; i++) {
        if (d[i] === 0 && d[i + 1] === 0 && d[i + 2] === 1) types.push(d[i + 3]! & 0x1f);
      }
      return types;
    };
    const read: number[][] = [];
    for await (const s of input.read('video', { from: 0, to: 2 })) read.push(unitTypes(s.data));
    // the key picture: SPS (7) and PPS (8) just before its IDR slice (5); the next: as it is
    const idr = read[0]!.indexOf(5);
    expect(read[0]!.slice(idr - 2, idr + 1)).toEqual([7, 8, 5]);
    expect(read[1]).not.toContain(7);
  });

  describe('H.264 as devices store it', () => {
    /** The header list (hdrl) of a fixture, as it is. */
    const hdrlOf = (bytes: Buffer): Buffer => {
      const at = bytes.indexOf(Buffer.from('hdrl')) - 8;
      return bytes.subarray(at, at + 8 + bytes.readUInt32LE(at + 4));
    };
    const chunk = (id: string, data: Uint8Array): number[] => [
      ...ascii(id),
      ...u32le(data.length),
      ...data,
      ...(data.length % 2 ? [0] : []),
    ];
    /** An AVI of `hdrl` and these video pictures, with an idx1 flagging `keys` (or none). */
    const avi = (hdrl: Buffer, pictures: Uint8Array[], keys: 'all' | 'none' | null): Blob => {
      const movi: number[] = [...ascii('movi')];
      const index: number[] = [];
      for (const p of pictures) {
        index.push(
          ...ascii('00dc'),
          ...u32le(keys === 'all' ? 0x10 : 0),
          ...u32le(movi.length - 4 + 4),
          ...u32le(p.length),
        );
        movi.push(...chunk('00dc', p));
      }
      const body = [
        ...ascii('AVI '),
        ...hdrl,
        ...chunk('LIST', Uint8Array.from(movi)),
        ...(keys ? chunk('idx1', Uint8Array.from(index)) : []),
      ];
      return new Blob([Uint8Array.from([...ascii('RIFF'), ...u32le(body.length), ...body])]);
    };
    const pictures = async (): Promise<{ hdrl: Buffer; list: Uint8Array[] }> => {
      const bytes = readFileSync(fixturePath('h264.avi'));
      const input = await AviInput.open(new Blob([Uint8Array.from(bytes)]));
      const list: Uint8Array[] = [];
      for await (const s of input.read('video')) list.push(s.data);
      return { hdrl: hdrlOf(bytes), list };
    };
    const keys = (input: AviInput): number[] =>
      Array.from(input.video.packets.key).flatMap((k, i) => (k ? [i] : []));

    it('takes only IDR pictures for key frames, whatever the index flags', async () => {
      const { hdrl, list } = await pictures();
      for (const flags of ['all', 'none', null] as const) {
        const input = await AviInput.open(avi(hdrl, list, flags));
        expect(input.video.packets.length, String(flags)).toBe(24);
        expect(keys(input), String(flags)).toEqual([0, 12]);
      }
    });

    it('a file that starts inside a group of pictures keeps its first pictures’ time, not them', async () => {
      const { hdrl, list } = await pictures();
      const input = await AviInput.open(avi(hdrl, list.slice(5), 'all'));
      // pictures 5-11 cannot be decoded without the IDR picture before them
      expect(input.video.packets.length).toBe(12);
      expect(keys(input)).toEqual([0]);
      expect(input.video.packets.timestampUs[0]).toBe(Math.round((7 * 1e6) / 24));
    });

    it('parameter sets in a chunk of their own go into the IDR picture after them', async () => {
      const { hdrl, list } = await pictures();
      const first = list[0]!;
      // where the first unit that is not an SPS or PPS starts
      let split = 0;
      for (let i = 0; i + 3 < first.length; i++) {
        if (first[i] === 0 && first[i + 1] === 0 && first[i + 2] === 1) {
          const type = first[i + 3]! & 0x1f;
          if (type !== 7 && type !== 8) {
            split = first[i - 1] === 0 ? i - 1 : i;
            break;
          }
        }
      }
      expect(split).toBeGreaterThan(0);
      const parts = [first.subarray(0, split), first.subarray(split), ...list.slice(1)];
      for (const flags of ['all', null] as const) {
        const input = await AviInput.open(avi(hdrl, parts, flags));
        expect(input.video.packets.length, String(flags)).toBe(24);
        expect(keys(input), String(flags)).toEqual([0, 12]);
        let picture: Uint8Array | null = null;
        for await (const s of input.read('video', { from: 0, to: 1 })) picture = s.data;
        // the same units as the stored picture, the sets moved up to its IDR slice
        const types: number[] = [];
        for (let i = 0; i + 3 < picture!.length; i++) {
          if (picture![i] === 0 && picture![i + 1] === 0 && picture![i + 2] === 1) {
            types.push(picture![i + 3]! & 0x1f);
            i += 3;
          }
        }
        const idr = types.indexOf(5);
        expect(types.slice(idr - 2, idr + 1), String(flags)).toEqual([7, 8, 5]);
        expect(picture!.length).toBe(first.length);
      }
    });
  });

  it('gives H.264 with B-frames the display order ffmpeg finds from its order counts', async () => {
    const path = fixturePath('h264-bframes.avi');
    const input = await openInput(await openAsBlob(path));
    const v = input.video!;
    // ffmpeg's frames in display order, each with where its picture's bytes are
    const frames = execFileSync(
      'ffprobe',
      [
        ...['-v', 'error', '-select_streams', 'v:0', '-show_entries'],
        ...['frame=best_effort_timestamp_time,pkt_pos', '-of', 'csv=p=0', path],
      ],
      { encoding: 'utf8' },
    )
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map((l) => l.split(',').map(Number) as [number, number]);
    expect(frames.length).toBe(v.packets.length);
    // ffmpeg counts from two frames in (x264's reorder delay) and gives its last frames no
    // time: the order is what is compared
    const byOffset = new Map<number, number>();
    for (const [time, pos] of frames) {
      if (!Number.isNaN(time)) byOffset.set(pos, time - frames[0]![0]);
    }
    expect(byOffset.size).toBeGreaterThan(20);
    // the stored order is not the display order
    const times = Array.from(v.packets.timestampUs);
    expect(times.some((t, k) => k > 0 && t < times[k - 1]!)).toBe(true);
    const located = (
      input as unknown as { located: Map<string, { offsets: Float64Array }> }
    ).located.get('video')!.offsets;
    let compared = 0;
    for (let k = 0; k < times.length; k++) {
      const theirs = byOffset.get(located[k]!);
      if (theirs === undefined) continue;
      expect(times[k]! / 1e6, `packet ${k}`).toBeCloseTo(theirs, 3);
      compared++;
    }
    expect(compared).toBe(byOffset.size);
  });

  it('gives MPEG-2 with B-frames in AVI its display order from each picture’s temporal reference', async () => {
    const input = await openInput(await openAsBlob(fixturePath('mpeg2.avi')));
    const v = input.video!;
    expect([v.codec, v.codecName, v.width, v.height]).toEqual(['mpeg2', 'MPEG-2', 320, 180]);
    expect(v.decoderConfig.description).toBeDefined();
    // decode order I P B B ...: the P picture shows after the two B pictures
    const t = Array.from(v.packets.timestampUs.subarray(0, 4), (x) => Math.round(x / 1000));
    expect(t).toEqual([0, 125, 42, 83]);
    expect(Array.from(v.packets.key.subarray(0, 4))).toEqual([1, 0, 0, 0]);
    // our decoder, fed in the stored order, gives every frame, in time order
    const shown: number[] = [];
    const decoder = new Mpeg2Decoder((f) => shown.push(f.timestamp));
    decoder.configure();
    for await (const s of input.read('video')) decoder.decode(s.data, s.timestampUs, s.durationUs);
    decoder.flush();
    expect(shown).toEqual([...v.packets.timestampUs].sort((a, b) => a - b));
    input.close();
  });
});
