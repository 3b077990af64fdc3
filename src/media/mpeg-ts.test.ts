import { execFileSync } from 'node:child_process';
import { openAsBlob } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureMediaFixtures, fixturePath, type FixtureName } from '../../test/media-fixtures.ts';
import { INTERLACED_NOTE } from './h264-sps.ts';
import { openInput, sniffContainer } from './input.ts';
import { parseTsStreams } from './ts-psi.ts';

// MPEG transport streams (TV recordings, AVCHD camcorders), read in Node against ffprobe.
beforeAll(() => {
  ensureMediaFixtures();
}, 60_000);

const blob = (name: FixtureName): Promise<Blob> => openAsBlob(fixturePath(name));

function ffprobe(name: FixtureName, entries: string, stream?: string): string[] {
  return execFileSync(
    'ffprobe',
    [
      ...['-v', 'error', ...(stream ? ['-select_streams', stream] : [])],
      ...['-show_entries', entries, '-of', 'csv=p=0', fixturePath(name)],
    ],
    { encoding: 'utf8' },
  )
    .split('\n')
    .map((l) => l.trim().replace(/,$/, ''))
    .filter((l) => l !== '');
}

/** One 188-byte packet of `pid` carrying `payload` (a section start when `start`). */
function tsPacket(pid: number, payload: number[], start: boolean): number[] {
  const packet = [0x47, (start ? 0x40 : 0) | (pid >> 8), pid & 0xff, 0x10, ...payload];
  while (packet.length < 188) packet.push(0xff);
  return packet.slice(0, 188);
}

/** A PSI section: table id, the 5 bytes after the length, `body`, and 4 (unchecked) CRC bytes. */
function section(tableId: number, body: number[]): number[] {
  const length = 5 + body.length + 4;
  return [tableId, 0xb0 | (length >> 8), length & 0xff, 0, 1, 0xc1, 0, 0, ...body, 0, 0, 0, 0];
}

describe('MPEG transport streams', () => {
  it('are recognised by a sync byte every 188, 192 or 204 bytes, not by one 0x47', async () => {
    const every = (first: number, stride: number) => {
      const head = new Uint8Array(3 * 204);
      for (let k = 0; k < 3; k++) head[first + k * stride] = 0x47;
      return head;
    };
    expect(sniffContainer(every(0, 188))).toBe('mpegts');
    expect(sniffContainer(every(4, 192))).toBe('mpegts');
    expect(sniffContainer(every(0, 204))).toBe('mpegts');
    expect(sniffContainer(every(0, 190))).toBeNull();
    const text = new TextEncoder().encode('G'.repeat(2) + ' is a letter, and this is text');
    expect(sniffContainer(text)).toBeNull();
    for (const name of ['h264-aac.ts', 'avchd.m2ts'] as const) {
      const head = new Uint8Array(await (await blob(name)).slice(0, 612).arrayBuffer());
      expect(sniffContainer(head)).toBe('mpegts');
    }
  });

  it('a TV recording: every frame at its time from the first packet, audio copied', async () => {
    const input = await openInput(await blob('h264-aac.ts'));
    try {
      expect(input.container).toBe('mpegts');
      const video = input.video!;
      expect([video.codecName, video.width, video.height]).toEqual(['H.264', 320, 180]);
      expect(input.audio?.codecName).toBe('AAC');
      expect(input.audio?.muxCodec).toBe('aac');
      // its clock starts near 1000 s (ffmpeg's offset): the file is read from 0, as players
      // show it, each packet at ffprobe's time less the file's start
      const start = Number(ffprobe('h264-aac.ts', 'format=start_time')[0]);
      expect(start).toBeGreaterThan(1000);
      const pts = ffprobe('h264-aac.ts', 'packet=pts_time', 'v:0').map(Number);
      expect(video.packets.length).toBe(pts.length);
      for (let k = 0; k < pts.length; k++) {
        expect(Math.abs(video.packets.timestampUs[k]! - (pts[k]! - start) * 1e6)).toBeLessThan(2);
      }
      const audioPts = ffprobe('h264-aac.ts', 'packet=pts_time', 'a:0').map(Number);
      expect(input.audio!.packets.length).toBe(audioPts.length);
      expect(input.audio!.packets.timestampUs[0]).toBe(0);
      // the packets read later carry the same times, from the start and from a key frame on
      const read = [];
      for await (const p of input.read('video')) read.push(p.timestampUs);
      expect(read).toEqual(Array.from(video.packets.timestampUs));
      const key = Array.from(video.packets.key).indexOf(1, 1);
      expect(key).toBeGreaterThan(0);
      const later = [];
      for await (const p of input.read('video', { from: key, to: key + 3 })) {
        later.push([p.index, p.timestampUs, p.key]);
      }
      expect(later).toEqual([
        [key, video.packets.timestampUs[key], true],
        [key + 1, video.packets.timestampUs[key + 1], false],
        [key + 2, video.packets.timestampUs[key + 2], false],
      ]);
      expect(input.warnings).toEqual([]);
    } finally {
      input.close();
    }
  });

  it('an AVCHD camcorder file (192-byte packets): H.264 and AC-3', async () => {
    const input = await openInput(await blob('avchd.m2ts'));
    try {
      expect(input.container).toBe('mpegts');
      expect(input.video?.packets.length).toBe(
        ffprobe('avchd.m2ts', 'packet=pts_time', 'v:0').length,
      );
      expect(input.audio?.muxCodec).toBe('ac3');
      expect(input.audio?.channels).toBe(2);
    } finally {
      input.close();
    }
  });

  it('1080i from a camcorder: its whole height, its pixel aspect and the interlace note', async () => {
    const input = await openInput(await blob('interlaced.m2ts'));
    try {
      const [width, height, sar] = ffprobe(
        'interlaced.m2ts',
        'stream=width,height,sample_aspect_ratio',
        'v:0',
      )[0]!.split(',');
      expect([width, height, sar]).toEqual(['1440', '1080', '4:3']);
      const video = input.video!;
      // mediabunny 1.61 alone gives 1440x536: the map units of the SPS taken for frame rows
      expect([video.width, video.height]).toEqual([1440, 1080]);
      expect([video.decoderConfig.codedWidth, video.decoderConfig.codedHeight]).toEqual([
        1440, 1080,
      ]);
      expect(video.pixelAspect).toEqual([4, 3]);
      expect(input.warnings).toContain(INTERLACED_NOTE);
    } finally {
      input.close();
    }
  });

  it('MPEG-2 video (which mediabunny leaves out) is read by Upframe’s own scan', async () => {
    const input = await openInput(await blob('mpeg2.ts'));
    try {
      expect(input.container).toBe('mpegts');
      expect([input.video?.codec, input.video?.codecName]).toEqual(['mpeg2', 'MPEG-2']);
      expect(input.video?.packets.length).toBe(ffprobe('mpeg2.ts', 'packet=pts', 'v:0').length);
      expect(input.audio?.codecName).toBe('MP2');
      expect(input.warnings).toEqual([]);
    } finally {
      input.close();
    }
  });

  it('audio mediabunny cannot read (Blu-ray LPCM) is named in a warning', async () => {
    const input = await openInput(await blob('lpcm.m2ts'));
    try {
      expect(input.audio).toBeNull();
      expect(input.warnings).toContain(
        "This file's LPCM audio cannot be read: the enhanced video will have no sound.",
      );
    } finally {
      input.close();
    }
  });

  it('each audio track has the language its program table gives (mediabunny reads none)', async () => {
    const input = await openInput(await blob('two-audio.ts'));
    try {
      const languages = ffprobe('two-audio.ts', 'stream_tags=language', 'a');
      expect(languages).toEqual(['eng', 'fra']);
      expect(input.audioTracks.map((t) => t.language)).toEqual(languages);
    } finally {
      input.close();
    }
  });

  it('reads the program tables, a PMT over two packets too', () => {
    // PAT: program 1 at PID 0x100; PMT: 40 streams (200 bytes of entries, past one packet)
    const pat = section(0x00, [0, 1, 0xe1, 0x00]);
    const entries: number[] = [];
    const types = [0x02, 0x1b, 0x0f, 0x06];
    // the AAC streams carry a stream identifier, then a language: "deu", as German TV writes it
    const deu = [0x52, 1, 7, 0x0a, 4, 0x64, 0x65, 0x75, 0];
    for (let i = 0; i < 40; i++) {
      const info = types[i % 4] === 0x0f ? deu : [];
      entries.push(types[i % 4]!, 0xe0 | 1, i, 0xf0, info.length, ...info);
    }
    const pmt = section(0x02, [0xe1, 0x01, 0xf0, 0, ...entries]);
    const first = [0, ...pmt.slice(0, 183)];
    const bytes = Uint8Array.from([
      ...tsPacket(0x11, [], true), // another PID first: skipped
      ...tsPacket(0, [0, ...pat], true),
      ...tsPacket(0x100, first, true),
      ...tsPacket(0x100, pmt.slice(183), false),
    ]);
    const streams = parseTsStreams(bytes);
    expect(streams).toHaveLength(40);
    expect(streams[0]).toEqual({
      pid: 0x100,
      streamType: 0x02,
      kind: 'video',
      name: 'MPEG-2 video',
      language: null,
    });
    expect(streams[39]).toEqual({
      pid: 0x100 + 39,
      streamType: 0x06,
      kind: 'other',
      name: 'stream type 0x06',
      language: null,
    });
    expect(streams.filter((s) => s.kind === 'audio').map((s) => s.name)).toEqual(
      Array<string>(10).fill('AAC'),
    );
    expect(streams.filter((s) => s.kind === 'audio').map((s) => s.language)).toEqual(
      Array<string>(10).fill('deu'),
    );
    // the PMT cut after its first packet: nothing half-read is given
    expect(parseTsStreams(bytes.subarray(0, 3 * 188))).toEqual([]);
  });
});
