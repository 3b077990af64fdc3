/** openInput: sniff the container, pick the reader, turn reader failures into person-facing errors. */
import { UpframeError } from '../shared/errors.ts';
import type { MediaInput } from './input-types.ts';
import { AviInput } from './avi-input.ts';
import { MkvInput } from './mkv-input.ts';
import { Mp4Input } from './mp4-input.ts';
import { MpegPsInput } from './mpeg-ps.ts';
import { MPEG_VIDEO_TYPES, MpegTsInput } from './mpeg-ts-input.ts';
import { LAYOUT_BYTES, packetLayout, tsStreams } from './ts-psi.ts';
import type { ContainerKind } from './types.ts';

const ISO_BOX_TYPES = new Set([
  'ftyp',
  'moov',
  'mdat',
  'free',
  'skip',
  'wide',
  'pnot',
  'uuid',
  'styp',
]);

/** Transport-stream video types mediabunny reads: H.264 and HEVC. */
const READ_BY_MEDIABUNNY = new Set([0x1b, 0x24]);

/** Container from the first bytes (never from the file name, which users rename freely). */
export function sniffContainer(head: Uint8Array): ContainerKind | null {
  const ascii = (from: number, to: number): string =>
    String.fromCharCode(...head.subarray(from, Math.min(to, head.length)));
  if (head.length >= 8 && ISO_BOX_TYPES.has(ascii(4, 8))) {
    return ascii(4, 8) === 'ftyp' && ascii(8, 12) === 'qt  ' ? 'mov' : 'mp4';
  }
  if (head[0] === 0x1a && head[1] === 0x45 && head[2] === 0xdf && head[3] === 0xa3) {
    return ascii(0, 64).includes('webm') ? 'webm' : 'mkv';
  }
  if (packetLayout(head)) return 'mpegts';
  if (ascii(0, 4) === 'RIFF' && ascii(8, 12) === 'AVI ') return 'avi';
  // an MPEG program stream's pack header (MPEG-2 '01', MPEG-1 '0010'); a VCD's .dat file wraps
  // its CD sectors in RIFF CDXA
  const pack = head[0] === 0 && head[1] === 0 && head[2] === 1 && head[3] === 0xba;
  if (pack && ((head[4]! & 0xc0) === 0x40 || (head[4]! & 0xf0) === 0x20)) return 'mpegps';
  if (ascii(0, 4) === 'RIFF' && ascii(8, 12) === 'CDXA') return 'mpegps';
  return null;
}

export async function openInput(blob: Blob): Promise<MediaInput> {
  if (blob.size === 0) {
    throw new UpframeError(
      'EMPTY_FILE',
      'This file is empty (0 bytes): pick the video file again.',
    );
  }
  // enough for every sniff: a box or EBML header, or three transport-stream packets
  const head = new Uint8Array(await blob.slice(0, LAYOUT_BYTES).arrayBuffer());
  const container = sniffContainer(head);
  if (container === null) {
    throw new UpframeError(
      'UNSUPPORTED_CONTAINER',
      'This is not a video file Upframe can open: use MP4, MOV, M4V, WebM, MKV, AVI, MPEG-TS (.ts, .mts, .m2ts) or MPEG-PS (.mpg, .vob).',
    );
  }
  let input: MediaInput | null;
  if (container === 'avi') {
    input = await AviInput.open(blob);
  } else if (container === 'mpegps') {
    input = await MpegPsInput.open(blob);
  } else if (container === 'mp4' || container === 'mov') {
    input = await Mp4Input.open(blob, container);
    // Fragmented MP4 keeps its index in many moof boxes; mediabunny walks those.
    input ??= await MkvInput.open(blob, container);
  } else if (container === 'mpegts') {
    // mediabunny reads H.264 and HEVC transport streams and leaves MPEG-1/2 video out: the
    // program tables say which this is
    const streams = await tsStreams(blob);
    const video = streams.find((s) => s.kind === 'video');
    input =
      video && MPEG_VIDEO_TYPES.has(video.streamType)
        ? await MpegTsInput.open(blob, streams)
        : await MkvInput.open(blob, container);
  } else {
    input = await MkvInput.open(blob, container);
  }
  if (input.video && input.video.packets.length === 0) {
    // A video track is declared but none of its packets can be read: typically a WebM/MKV cut
    // short (mediabunny finds no cluster in it), not an audio file.
    input.close();
    throw new UpframeError(
      'CORRUPT_INPUT',
      'This file looks damaged: it declares a video track, but none of its frames can be read ' +
        '(it may be cut short).',
    );
  }
  if (!input.video && container === 'mpegts') {
    // mediabunny surfaces only the streams it can read: the tables say what else is there
    const video = (await tsStreams(blob)).find((s) => s.kind === 'video');
    if (video) {
      input.close();
      // H.264 or HEVC that mediabunny could not find its way into is damage, not a codec
      throw READ_BY_MEDIABUNNY.has(video.streamType)
        ? new UpframeError(
            'CORRUPT_INPUT',
            `This file looks damaged: it declares ${video.name} video, but none of its frames ` +
              'can be read.',
          )
        : new UpframeError(
            'UNSUPPORTED_CODEC',
            `This browser cannot decode ${video.name} (the video of this transport stream). ` +
              'Convert the file to H.264, VP9 or AV1 first.',
          );
    }
  }
  if (!input.video) {
    input.close();
    throw new UpframeError(
      'NO_VIDEO_TRACK',
      input.audio
        ? 'This file has sound but no picture: Upframe needs a video track.'
        : // A video container with no track at all: its track list is missing or damaged.
          'This file has no track Upframe can read, neither picture nor sound: it may be damaged.',
    );
  }
  return input;
}
