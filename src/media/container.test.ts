import { execFileSync } from 'node:child_process';
import { mkdtempSync, openAsBlob, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ALL_FORMATS, BlobSource, EncodedPacketSink, Input } from 'mediabunny';
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureMediaFixtures, fixturePath, type FixtureName } from '../../test/media-fixtures.ts';
import { aacChannels } from './codecs.ts';
import { avcLevel, codecCandidates, cropNote } from './encoder-config.ts';
import { decodeRangeFor, frameTiming } from './frame-timing.ts';
import { openInput, sniffContainer } from './input.ts';
import { editListShift, rotationFromMatrix } from './mp4-input.ts';
import {
  leftOutOfMatroska,
  matroskaVideoCodec,
  trackTypesIn,
  type TrackEntry,
} from './mkv-tracks.ts';

// Container parsing runs in Node: mp4box and mediabunny need no browser, and ffmpeg makes the files.
beforeAll(() => {
  ensureMediaFixtures();
}, 60_000);

const blob = (name: FixtureName): Promise<Blob> => openAsBlob(fixturePath(name));

/** The video packets ffmpeg's Matroska demuxer reads from a file (0 when it reads none). */
function ffprobeVideoPackets(path: string): number {
  try {
    const out = execFileSync(
      'ffprobe',
      [
        ...['-v', 'quiet', '-select_streams', 'v:0', '-count_packets'],
        ...['-show_entries', 'stream=nb_read_packets', '-of', 'csv=p=0', path],
      ],
      { encoding: 'utf8' },
    );
    return Number(out.trim()) || 0;
  } catch {
    return 0;
  }
}

describe('mp4box reader', () => {
  it('applies the edit list: ffmpeg H.264 starts at 83 333 us before it, 0 after', async () => {
    const input = await openInput(await blob('h264-aac.mp4'));
    const ts = Array.from(input.video!.packets.timestampUs);
    expect(Math.min(...ts)).toBe(0);
    expect([...ts].sort((a, b) => a - b)).toEqual(ts.map((_, i) => Math.round((i * 1e6) / 24)));
    // AAC priming: the first packet plays before t=0 and is kept (copied) as such.
    expect(input.audio!.packets.timestampUs[0]).toBe(Math.round((-1024 / 48000) * 1e6));
    expect(input.audio!.channels).toBe(1);
    expect(
      editListShift({
        edits: [
          {
            segment_duration: 2000,
            media_time: 1024,
            media_rate_integer: 1,
            media_rate_fraction: 0,
          },
        ],
        movie_timescale: 1000,
      }),
    ).toEqual({ shiftTicks: 1024, offsetUs: 0, note: null });
    input.close();
  });

  it('gives the same packets, bytes and timestamps as mediabunny (an independent reader)', async () => {
    for (const name of [
      'h264-aac.mp4',
      'vfr-mp3.mp4',
      'av1-opus.mp4',
      'h264-aac.mkv',
      'vp9-opus.webm',
    ] as const) {
      const file = await blob(name);
      const ours = await openInput(file);
      const theirs = new Input({ source: new BlobSource(file), formats: ALL_FORMATS });
      for (const kind of ['video', 'audio'] as const) {
        const track =
          kind === 'video'
            ? await theirs.getPrimaryVideoTrack()
            : await theirs.getPrimaryAudioTrack();
        const sink = new EncodedPacketSink(track!);
        const ref: { t: number; bytes: number[] }[] = [];
        for await (const p of sink.packets())
          ref.push({ t: Math.round(p.timestamp * 1e6), bytes: Array.from(p.data.subarray(0, 16)) });
        const got: { t: number; bytes: number[] }[] = [];
        const table = ours[kind]!.packets;
        for await (const s of ours.read(kind)) {
          got.push({ t: s.timestampUs, bytes: Array.from(s.data.subarray(0, 16)) });
          // the packet table read at open agrees with every packet read later
          const { index, data, ...info } = s;
          expect(table.at(index)).toEqual(info);
          expect(data.byteLength).toBe(table.byteLength[index]);
        }
        expect(got.length).toBe(table.length);
        expect(got.length).toBe(ref.length);
        got.forEach((g, i) => {
          expect(Math.abs(g.t - ref[i]!.t)).toBeLessThanOrEqual(1);
          expect(g.bytes).toEqual(ref[i]!.bytes);
        });
      }
      expect(ours.video!.rotation).toBe(await (await theirs.getPrimaryVideoTrack())!.getRotation());
      theirs.dispose();
      ours.close();
    }
  });

  it('a file cut anywhere in its media data shows exactly the frames before the cut', async () => {
    // truncated-body.mp4: moov first, 48 frames at 24 fps with B-frames, media cut at 60 %.
    // Cutting it further at many places must always leave frames 0 .. n-1 with nothing missing,
    // including cuts right after a P-frame that only later (missing) B-frames would precede.
    const file = await blob('truncated-body.mp4');
    let hiddenReferences = 0;
    let cuts = 0;
    for (let size = file.size; size > file.size / 2; size -= 211) {
      let input;
      try {
        input = await openInput(file.slice(0, size));
      } catch (err) {
        expect(String(err)).toMatch(/cut short before its first frame|index/);
        continue;
      }
      cuts++;
      const timing = frameTiming(input.video!.packets);
      const n = timing.timestampsUs.length;
      expect(timing.timestampsUs).toEqual(
        Array.from({ length: n }, (_, i) => Math.round((i * 1e6) / 24)),
      );
      expect(input.warnings.join()).toContain(`it holds ${n} of its 48 frames`);
      // the decode range of all shown frames stays inside the packets the file holds
      expect(decodeRangeFor(input.video!.packets, timing, 0, n).to).toBeLessThanOrEqual(
        input.video!.packets.length,
      );
      if (input.video!.packets.length > n) hiddenReferences++;
      input.close();
    }
    expect(cuts).toBeGreaterThan(50);
    // some cuts keep a packet that is decoded only as a reference: the case the rule is for
    expect(hiddenReferences).toBeGreaterThan(0);
  });

  for (const name of [
    'vp9-opus.webm',
    'clusters.webm',
    'live.webm',
    'unsized-clusters.webm',
  ] as const) {
    it(`${name} cut anywhere holds every whole block, as ffmpeg reads it, and says it is cut short`, async () => {
      // vp9-opus.webm is one 2-s cluster (ffmpeg's clusters run up to 5 s: a cut clip that short
      // had no frame mediabunny would read); clusters.webm has quarter-second clusters; live.webm
      // declares no segment size and no duration; unsized-clusters.webm has clusters of unknown
      // size, as MediaRecorder writes them (and declares a duration). Every cut leaves frames 0 .. n-1 with the bytes
      // of the whole file, n being what ffprobe reads from the same cut (a reader that shares no
      // code with ours), and a note with n where a duration is declared.
      const dir = mkdtempSync(join(tmpdir(), 'cut-webm-'));
      const whole = await blob(name);
      const full = await openInput(whole);
      expect(full.warnings).toEqual([]);
      const reference: Buffer[] = [];
      for await (const s of full.read('video')) reference.push(Buffer.from(s.data));
      const times = Array.from(full.video!.packets.timestampUs);
      full.close();
      expect(reference.length).toBe(48);
      const held = new Set<number>();
      const bytes = new Uint8Array(await whole.arrayBuffer());
      for (let size = whole.size - 1; size > 1000; size -= Math.floor(whole.size / 28)) {
        const path = join(dir, 'cut.webm');
        writeFileSync(path, bytes.subarray(0, size));
        const ffmpegReads = ffprobeVideoPackets(path);
        let input;
        try {
          input = await openInput(whole.slice(0, size));
        } catch (err) {
          expect((err as { code?: string }).code, String(err)).toBe('CORRUPT_INPUT');
          expect(ffmpegReads, `cut at ${size}`).toBe(0);
          continue;
        }
        const n = input.video!.packets.length;
        expect(n, `cut at ${size}`).toBe(ffmpegReads);
        expect(Array.from(input.video!.packets.timestampUs)).toEqual(times.slice(0, n));
        // a cut in the index after the last cluster loses nothing and says nothing; a lost
        // quarter of a second or more is said
        if (n === 48 || name === 'live.webm') expect(input.warnings).toEqual([]);
        else if (n <= 42) {
          expect(input.warnings.join()).toContain(`This file is cut short: it holds ${n} frames`);
        }
        let k = 0;
        for await (const s of input.read('video')) {
          expect(Buffer.from(s.data).equals(reference[k++]!), `cut at ${size}, frame ${k}`).toBe(
            true,
          );
        }
        expect(k).toBe(n);
        held.add(n);
        input.close();
      }
      // cuts inside the first cluster give frames too, and the cuts give many different counts
      expect(Math.min(...held)).toBeLessThan(6);
      expect(held.size).toBeGreaterThan(12);
      rmSync(dir, { recursive: true, force: true });
    }, 120_000);
  }

  it('reads rotation from the tkhd matrix (clockwise degrees)', async () => {
    const input = await openInput(await blob('rotated-90.mp4'));
    expect(input.video!.rotation).toBe(270);
    input.close();
    expect(rotationFromMatrix([0, 65536, 0, -65536, 0, 0, 0, 0, 1 << 30])).toBe(90);
    expect(rotationFromMatrix([-65536, 0, 0, 0, -65536, 0, 0, 0, 1 << 30])).toBe(180);
  });
});

describe('sniffing and codec arithmetic', () => {
  it('recognises containers by their first bytes', () => {
    const ascii = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0));
    expect(sniffContainer(ascii('\0\0\0\x20ftypisom'))).toBe('mp4');
    expect(sniffContainer(ascii('\0\0\0\x14ftypqt  '))).toBe('mov');
    expect(sniffContainer(Uint8Array.from([0x1a, 0x45, 0xdf, 0xa3, ...ascii('....webm')]))).toBe(
      'webm',
    );
    expect(sniffContainer(Uint8Array.from([0x1a, 0x45, 0xdf, 0xa3, ...ascii('matroska')]))).toBe(
      'mkv',
    );
    expect(sniffContainer(ascii('RIFF....AVI '))).toBe('avi');
    expect(sniffContainer(ascii('RIFF....WAVE'))).toBeNull();
  });

  it('names the pixels an even H.264 size cuts where a player shows them, for every rotation', () => {
    // a stored 5x3 picture with its last column (or last row) marked, turned clockwise as players do
    const turn = (grid: boolean[][]): boolean[][] =>
      grid[0]!.map((_, x) => grid.map((row) => row[x]!).reverse());
    const edge = (grid: boolean[][]): string => {
      const h = grid.length;
      const w = grid[0]!.length;
      const all = (cells: boolean[]) => cells.every(Boolean);
      if (all(grid[0]!)) return 'first row';
      if (all(grid[h - 1]!)) return 'last row';
      if (all(grid.map((r) => r[0]!))) return 'first column';
      if (all(grid.map((r) => r[w - 1]!))) return 'last column';
      return 'none';
    };
    const marked = (f: (x: number, y: number) => boolean) =>
      Array.from({ length: 3 }, (_, y) => Array.from({ length: 5 }, (_, x) => f(x, y)));
    let column = marked((x) => x === 4);
    let row = marked((_, y) => y === 2);
    for (const rotation of [0, 90, 180, 270]) {
      const upright = rotation % 180 === 0 ? '5x3 becomes 4x2' : '3x5 becomes 2x4';
      expect(cropNote({ width: 5, height: 3 }, { width: 4, height: 2 }, rotation)).toBe(
        `H.264 takes only even frame sizes: the ${edge(column)} and the ${edge(row)} of pixels ` +
          `were left out (${upright}); VP9 and AV1 keep every pixel.`,
      );
      column = turn(column);
      row = turn(row);
    }
    // the unturned wording the command-line test reads, and one side alone
    expect(cropNote({ width: 161, height: 90 }, { width: 160, height: 90 }, 0)).toBe(
      'H.264 takes only even frame sizes: the last column of pixels was left out ' +
        '(161x90 becomes 160x90); VP9 and AV1 keep every pixel.',
    );
    expect(cropNote({ width: 160, height: 91 }, { width: 160, height: 90 }, -90)).toContain(
      'the last column of pixels was left out (91x160 becomes 90x160)',
    );
  });

  it('picks the H.264 level from size and rate', () => {
    expect(avcLevel(320, 180, 24)).toBe(0x1e);
    expect(avcLevel(1280, 720, 30)).toBe(0x1f);
    expect(avcLevel(1920, 1080, 30)).toBe(0x28);
    expect(avcLevel(3840, 2160, 30)).toBe(0x33);
    expect(avcLevel(3840, 2160, 60)).toBe(0x34);
    expect(codecCandidates('avc', 3840, 2160, 30)).toEqual([
      'avc1.640033',
      'avc1.4d0033',
      'avc1.42e033',
    ]);
    expect(codecCandidates('vp9', 1920, 1080, 30)).toEqual(['vp09.00.40.08']);
    expect(codecCandidates('av1', 1920, 1080, 30)).toEqual(['av01.0.08M.08']);
    expect(avcLevel(16384, 16384, 30)).toBeNull();
  });

  it('reads the channel count from an AAC AudioSpecificConfig', () => {
    expect(aacChannels(Uint8Array.from([0x11, 0x88]))).toBe(1); // LC, 48 kHz, mono
    expect(aacChannels(Uint8Array.from([0x11, 0x90]))).toBe(2);
  });
});

describe('audio tracks', () => {
  it('every audio track is read, the one a player picks first first, with its language and title', async () => {
    const sizes = (path: string, stream: string): number[] =>
      (
        JSON.parse(
          execFileSync(
            'ffprobe',
            [
              ...['-v', 'error', '-select_streams', stream, '-show_entries', 'packet=size'],
              ...['-of', 'json', path],
            ],
            { encoding: 'utf8' },
          ),
        ) as { packets: { size: string }[] }
      ).packets.map((p) => Number(p.size));
    for (const name of ['two-audio.mp4', 'two-audio.mkv'] as const) {
      const input = await openInput(await blob(name));
      try {
        // the French track is the default one (the English one comes first in the file)
        expect(input.audioTracks.map((t) => [t.language, t.title])).toEqual([
          ['fra', null],
          ['eng', 'Commentary'],
        ]);
        expect(input.audio).toBe(input.audioTracks[0]);
        // each track's packets are its own: the sizes ffprobe lists for its stream
        for (const [k, stream] of [
          [0, 'a:1'],
          [1, 'a:0'],
        ] as const) {
          const got: number[] = [];
          for await (const p of input.read('audio', undefined, k)) got.push(p.byteLength);
          expect(got, `${name} track ${k}`).toEqual(sizes(fixturePath(name), stream));
        }
        expect(input.warnings.join(' ')).not.toContain('audio');
      } finally {
        input.close();
      }
    }
  });
});

describe('QuickTime languages', () => {
  it("a MOV's Macintosh language codes are read as ISO codes, and every PCM track is read", async () => {
    const input = await openInput(await blob('mac-languages.mov'));
    try {
      expect(input.audioTracks.map((t) => [t.codecName, t.language])).toEqual([
        ['PCM (16-bit)', 'eng'],
        ['PCM (16-bit)', 'fra'],
      ]);
      for (const k of [0, 1]) {
        let bytes = 0;
        for await (const p of input.read('audio', undefined, k)) bytes += p.byteLength;
        expect(bytes, `track ${k}`).toBe(48000 * 2);
      }
    } finally {
      input.close();
    }
  });
});

describe('reading from a packet on', () => {
  it('gives the packet asked for, for every audio packet of a Matroska file or a transport stream', async () => {
    // (a transport stream's 90 kHz clock falls between microseconds)
    for (const name of ['two-audio.mkv', 'vp9-opus.webm', 'h264-aac.ts'] as const) {
      const input = await openInput(await blob(name));
      try {
        const table = input.audio!.packets;
        const wrong: number[] = [];
        for (let k = 0; k < table.length; k++) {
          const got: number[] = [];
          for await (const p of input.read('audio', { from: k, to: k + 1 }))
            got.push(p.timestampUs);
          if (got.length !== 1 || got[0] !== table.timestampUs[k]) wrong.push(k);
        }
        expect(wrong, name).toEqual([]);
      } finally {
        input.close();
      }
    }
  });
});

describe('tracks that are not copied', () => {
  it('a timecode track is named in a warning; the timed-text subtitles are kept', async () => {
    const input = await openInput(await blob('subtitles.mp4'));
    try {
      expect(input.warnings).toContain(
        'Left out of the enhanced file: a timecode, menu or data track.',
      );
      expect(input.subtitleTracks.map((t) => t.kind)).toEqual(['text']);
    } finally {
      input.close();
    }
  });

  it('text subtitle tracks of an MKV are kept, so not named (mediabunny does not list them)', async () => {
    const input = await openInput(await blob('subtitles.mkv'));
    try {
      expect(input.warnings.join(' ')).not.toContain('Left out');
      expect(input.subtitleTracks.map((t) => [t.kind, t.language])).toEqual([
        ['srt', null],
        ['srt', null],
      ]);
    } finally {
      input.close();
    }
    // a WebM with only its video and audio says nothing of the kind
    const plain = await openInput(await blob('vp9-opus.webm'));
    try {
      expect(plain.warnings.join(' ')).not.toContain('Left out');
    } finally {
      plain.close();
    }
  });

  it('reads each TrackEntry of a Tracks element, whatever the order of its fields', () => {
    // TrackEntry { TrackNumber 1, TrackType 1 }, { TrackType 0x11 }, { TrackType 0x21 (2 bytes) }
    const tracks = Uint8Array.from([
      ...[0xae, 0x86, 0xd7, 0x81, 0x01, 0x83, 0x81, 0x01],
      ...[0xae, 0x83, 0x83, 0x81, 0x11],
      ...[0xae, 0x84, 0x83, 0x82, 0x00, 0x21],
    ]);
    expect(trackTypesIn(tracks)).toEqual([1, 0x11, 0x21]);
    expect(leftOutOfMatroska([1, 2, 0x11, 0x21, 1])).toEqual({ subtitle: 1, video: 1, other: 1 });
    // a picture subtitle track (PGS) is left out; the text one beside it is kept
    expect(leftOutOfMatroska([1, 0x11, 0x11], 1)).toEqual({ subtitle: 1, video: 0, other: 0 });
    // an entry whose size runs past the element ends the list instead of reading beyond it
    expect(trackTypesIn(Uint8Array.from([0xae, 0x83, 0x83, 0x81, 0x11, 0xae, 0x90, 0x83]))).toEqual(
      [0x11],
    );
  });
});

describe('Motion JPEG', () => {
  it('is read from MOV (sample entry jpeg) and Matroska (V_MJPEG), every packet a key frame', async () => {
    for (const [name, codec] of [
      ['mjpeg.mov', 'jpeg'],
      ['mjpeg.mkv', 'mjpeg'],
    ] as const) {
      const video = (await openInput(await blob(name))).video!;
      expect(video.codec, name).toBe(codec);
      expect(video.codecName, name).toBe('Motion JPEG');
      expect(video.decoderConfig, name).toMatchObject({ codec, codedWidth: 320, codedHeight: 180 });
      expect(video.packets.length, name).toBe(ffprobeVideoPackets(fixturePath(name)));
      expect(
        Array.from(video.packets.key).every((k) => k === 1),
        name,
      ).toBe(true);
    }
  });

  it('and other Matroska video mediabunny does not know is named by its CodecID', () => {
    const entry = (number: number, type: number, codecId: string, bih?: string): TrackEntry => ({
      number,
      type,
      codecId,
      language: 'eng',
      name: null,
      isDefault: true,
      forced: false,
      hearingImpaired: false,
      // a BITMAPINFOHEADER: its FourCC (biCompression) at byte 16
      codecPrivate: bih
        ? Uint8Array.from([...new Array<number>(16).fill(0), ...Buffer.from(bih)])
        : null,
      encoding: { kind: 'none' },
    });
    const tracks = [entry(1, 2, 'A_AAC'), entry(2, 1, 'V_THEORA'), entry(3, 1, 'V_MJPEG')];
    expect(matroskaVideoCodec(tracks, 3)).toBe('mjpeg');
    expect(matroskaVideoCodec(tracks, 2)).toBe('V_THEORA');
    // a number no video entry has: the first video entry
    expect(matroskaVideoCodec(tracks, 9)).toBe('V_THEORA');
    // MPEG-1 and MPEG-2 video are decoded (mpeg-video-decoder.ts)
    expect(matroskaVideoCodec([entry(1, 1, 'V_MPEG2')], 1)).toBe('mpeg2');
    expect(matroskaVideoCodec([entry(1, 1, 'V_MPEG1')], 1)).toBe('mpeg1');
    expect(matroskaVideoCodec([entry(1, 1, 'V_MS/VFW/FOURCC', 'MJPG')], 1)).toBe('mjpeg');
    expect(matroskaVideoCodec([entry(1, 1, 'V_MS/VFW/FOURCC', 'XVID')], 1)).toBe(
      'V_MS/VFW/FOURCC/XVID',
    );
    // too short to hold a FourCC
    expect(matroskaVideoCodec([entry(1, 1, 'V_MS/VFW/FOURCC', 'XV')], 1)).toBe('V_MS/VFW/FOURCC');
    expect(matroskaVideoCodec([entry(1, 2, 'A_AAC')], 1)).toBeNull();
  });
});
