import { execFileSync } from 'node:child_process';
import { openAsBlob } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureMediaFixtures, fixturePath, type FixtureName } from '../../test/media-fixtures.ts';
import { H264Pictures, h264FieldOrder, nalUnits, type PictureScan } from './h264-field-order.ts';
import { openInput } from './input.ts';

// Which field comes first, read from the first slice header, against what ffprobe says.
beforeAll(() => {
  ensureMediaFixtures();
}, 60_000);

function ffprobeOrder(name: FixtureName): string {
  return execFileSync(
    'ffprobe',
    [
      ...['-v', 'error', '-select_streams', 'v', '-show_entries', 'stream=field_order'],
      ...['-of', 'csv=p=0', fixturePath(name)],
    ],
    { encoding: 'utf8' },
  )
    .trim()
    .split('\n')[0]!; // (a transport stream lists its stream again under its program)
}

/** The stream as Annex B (start codes), as a transport stream carries it. */
function annexB(name: FixtureName): Uint8Array {
  return execFileSync(
    'ffmpeg',
    [
      ...['-v', 'error', '-i', fixturePath(name), '-c:v', 'copy'],
      ...['-bsf:v', 'h264_mp4toannexb', '-f', 'h264', '-'],
    ],
    { maxBuffer: 64 * 1024 * 1024 },
  );
}

describe('H.264 field order', () => {
  it.each([
    ['interlaced-bff.mp4', 'bb', 'bottom-first'],
    ['interlaced-bff.mkv', 'bb', 'bottom-first'],
    ['interlaced-bff.ts', 'bb', 'bottom-first'],
    ['interlaced.mp4', 'tt', undefined],
    ['interlaced.m2ts', 'tt', undefined],
    ['h264-aac.mp4', 'progressive', undefined],
  ] as const)('%s: ffprobe says %s; the opened track says %s', async (name, probed, order) => {
    expect(ffprobeOrder(name)).toBe(probed);
    const input = await openInput(await openAsBlob(fixturePath(name)));
    try {
      expect(input.video?.fieldOrder).toBe(order);
    } finally {
      input.close();
    }
  });

  it('reads Annex B streams, with the parameter sets in the access unit', () => {
    expect(h264FieldOrder(annexB('interlaced-bff.mp4'), null)).toBe('bottom-first');
    expect(h264FieldOrder(annexB('interlaced.mp4'), null)).toBe('top-first');
    expect(h264FieldOrder(annexB('h264-aac.mp4'), null)).toBeNull();
    // without its parameter sets a slice cannot be read: the stream says nothing
    const units = nalUnits(annexB('interlaced-bff.mp4'), 0);
    const slice = units.find((u) => (u[0]! & 0x1f) === 5)!;
    expect(h264FieldOrder(Uint8Array.of(0, 0, 1, ...slice.subarray(0, 64)), null)).toBeNull();
  });

  it('splits length-prefixed and start-code units alike, a unit cut short kept as far as it goes', () => {
    const units = [Uint8Array.of(0x67, 1, 2, 3), Uint8Array.of(0x68, 4), Uint8Array.of(0x65, 5, 6)];
    const prefixed = units.flatMap((u) => [0, 0, u.length >> 8, u.length & 255, ...u]);
    expect(nalUnits(Uint8Array.from(prefixed), 4)).toEqual(units);
    expect(nalUnits(Uint8Array.from(prefixed.slice(0, -1)), 4).at(-1)).toEqual(
      Uint8Array.of(0x65, 5),
    );
    const startCodes = [0, 0, 0, 1, ...units[0]!, 0, 0, 1, ...units[1]!, 0, 0, 0, 1, ...units[2]!];
    expect(nalUnits(Uint8Array.from(startCodes), 0)).toEqual(units);
  });

  // per picture, against ffmpeg's own marks on each decoded frame (interlaced_frame,
  // top_field_first), in presentation order. interlaced.mp4 is x264 given frames without field
  // flags: its SEI says top first for 16 frames, then bottom first, its picture order counts say
  // bottom first throughout (ffmpeg's decoder marks follow those); only whether each frame is
  // interlaced is compared there.
  it.each([
    ['interlaced-bff.mp4', 'every frame bottom first', 'frames'],
    ['interlaced-bff.ts', 'every frame bottom first', 'frames'],
    ['interlaced-bff.mkv', 'every frame bottom first', 'frames'],
    ['interlaced-small.mp4', 'every frame top first', 'frames'],
    ['interlaced.m2ts', 'every frame top first', 'frames'],
    ['interlaced.mp4', 'every frame interlaced', 'interlacing only'],
    ['h264-aac.mp4', 'progressive', 'frames'],
    ['fake-interlaced.mp4', 'progressive, though the stream allows fields', 'frames'],
    ['mixed-fields.ts', 'interlaced, then progressive', 'frames'],
  ] as const)('%s, picture by picture, as ffmpeg marks it (%s)', async (name, _what, order) => {
    const input = await openInput(await openAsBlob(fixturePath(name)));
    const scans: { t: number; scan: PictureScan | null }[] = [];
    try {
      const d = input.video!.decoderConfig.description;
      const avcC = !d
        ? null
        : ArrayBuffer.isView(d)
          ? new Uint8Array(d.buffer, d.byteOffset, d.byteLength)
          : new Uint8Array(d);
      const pictures = new H264Pictures(avcC);
      for await (const sample of input.read('video')) {
        scans.push({ t: sample.timestampUs, scan: pictures.scan(sample.data) });
      }
    } finally {
      input.close();
    }
    const ours = scans.sort((a, b) => a.t - b.t).map((s) => s.scan);
    const theirs = ffprobeFrames(name).map(([interlaced, tff]) =>
      !interlaced ? 'progressive' : tff ? 'top-first' : 'bottom-first',
    );
    const shown = (scans: readonly (PictureScan | null)[]) =>
      order === 'frames' ? scans : scans.map((scan) => scan !== 'progressive');
    expect(shown(ours)).toEqual(shown(theirs));
  });
});

/** ffprobe's [interlaced_frame, top_field_first] of each decoded frame, in presentation order. */
function ffprobeFrames(name: FixtureName): [number, number][] {
  return execFileSync(
    'ffprobe',
    [
      ...['-v', 'error', '-select_streams', 'v:0', '-show_entries'],
      ...['frame=interlaced_frame,top_field_first', '-of', 'csv=p=0', fixturePath(name)],
    ],
    { encoding: 'utf8' },
  )
    .trim()
    .split('\n')
    .filter((line) => /^\d,\d/.test(line)) // (side data adds an empty line)
    .map((line) => line.split(',').slice(0, 2).map(Number) as [number, number]);
}
