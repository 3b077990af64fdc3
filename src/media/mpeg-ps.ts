/**
 * MPEG program stream reader (ISO/IEC 11172-1 and 13818-1), behind the MediaInput interface:
 * .mpg/.mpeg files, DVD .vob files, old camcorders' .mod/.tod and VCD .dat files (a RIFF CDXA
 * wrapper whose CD sectors hold one pack each). The video is MPEG-1 or MPEG-2, one packet a
 * coded picture (mpeg-video-es.ts), for the project's MPEG-2 decoder, which is configured with
 * the first sequence header. The sound kept: MP3 (MPEG audio Layer III) and AC-3 as whole frames,
 * DVD LPCM 16-bit as it is (big-endian PCM, which MP4 holds); MPEG audio Layer I/II, DTS and
 * 20/24-bit LPCM are left out with a warning, as are DVD subtitles (subpictures).
 *
 * A program stream has no index: the whole file is scanned once at open (mpeg-ps-scan.ts), in
 * windows. Times are the PES packets' PTS (90 kHz, unwrapped past 2^33), a picture without its
 * own PTS placed by its temporal reference in its GOP; audio frames without one follow the
 * previous frame. The earliest kept packet is at 0, as for transport streams. Each picture's
 * duration is its frame's, with repeat_first_field's extra field (3:2 pulldown) counted.
 */
import { UpframeError } from '../shared/errors.ts';
import { formatDuration } from '../shared/format.ts';
import { colorSpaceFromCodes, leftOutNote } from './codecs.ts';
import { INTERLACED_NOTE } from './h264-sps.ts';
import type { MediaInput, ReadRange } from './input-types.ts';
import { extract, type StreamKey } from './mpeg-ps-packs.ts';
import {
  AFTER_GOP,
  AFTER_SEQUENCE_HEADER,
  CLOSED_GOP,
  lpcmBits,
  PICTURE_TYPE,
  PROGRESSIVE_FRAME,
  scanProgramStream,
  TOP_FIELD_FIRST,
  type PsScan,
  type ScannedStream,
} from './mpeg-ps-scan.ts';
import { PictureClock, type SequenceInfo } from './mpeg-video-es.ts';
import { PacketTable } from './packet-table.ts';
import { displayAspect, pixelAspect } from './pixel-aspect.ts';
import type { SubtitleCopy } from './subtitle-text.ts';
import type { AudioTrackInfo, EncodedSample, PixelAspect, VideoTrackInfo } from './types.ts';

/** Where a track's packets are in the file (mpeg-ps-scan.ts PsPackets), with their table. */
export interface PsLocated {
  readonly stream: StreamKey;
  readonly fileStart: Float64Array;
  readonly fileEnd: Float64Array;
  readonly skip: Uint32Array;
  readonly packets: PacketTable;
}

/** A gathered track before its times are shifted to start at 0 (90 kHz ticks). */
export interface Timed {
  readonly located: Omit<PsLocated, 'packets'>;
  readonly ticks: Float64Array;
  readonly durationTicks: Float64Array;
  readonly sizes: Uint32Array;
  readonly key: Uint8Array;
}

/** MPEG-1 pel aspect ratios (height over width of a pixel, x 10000) by code (11172-2 2.4.3.2). */
const MPEG1_PEL_ASPECT = [
  0, 10000, 6735, 7031, 7615, 8055, 8437, 8935, 9375, 9815, 10255, 10695, 11250, 11575, 12015,
];
/** MPEG-2 display aspect ratios by aspect_ratio_information (13818-2 6.3.3); 1 is square pixels. */
const MPEG2_DISPLAY_ASPECT: Readonly<Record<number, readonly [number, number]>> = {
  2: [4, 3],
  3: [16, 9],
  4: [221, 100],
};

const LPCM_RATES = [48000, 96000, 44100, 32000];
/** How far (90 kHz ticks) an LPCM packet's PTS may be from the previous one's end: 0.1 s. */
const LPCM_GAP = 9000;
/** Where the scan starts in a VCD's .dat file: after its RIFF CDXA header, at its data. */
const RIFF_HEADER = 44;
/** The most one read of neighbouring packets spans. */
const READ_SPAN = 4 * 1024 * 1024;

export class MpegPsInput implements MediaInput {
  readonly container = 'mpegps' as const;
  readonly subtitleTracks = [];

  private constructor(
    readonly blob: Blob,
    readonly video: VideoTrackInfo,
    readonly audioTracks: readonly AudioTrackInfo[],
    private readonly located: ReadonlyMap<'video' | number, PsLocated>,
    readonly warnings: string[],
  ) {}

  get audio(): AudioTrackInfo | null {
    return this.audioTracks[0] ?? null;
  }

  static async open(blob: Blob): Promise<MpegPsInput> {
    const head = new Uint8Array(await blob.slice(0, 12).arrayBuffer());
    const cdxa = String.fromCharCode(...head.subarray(8, 12)) === 'CDXA';
    const scan = await scanProgramStream(blob, cdxa ? RIFF_HEADER : 0, (layer) => layer === 1);
    const videoStream = scan.streams.find((s) => s.kind === 'video');
    const audioStreams = scan.streams
      .filter((s) => s.kind !== 'video')
      .sort((a, b) => logicalNumber(a) - logicalNumber(b) || a.firstAt - b.firstAt);
    if (!videoStream) {
      throw new UpframeError(
        'NO_VIDEO_TRACK',
        audioStreams.length > 0
          ? 'This file has sound but no picture: Upframe needs a video track.'
          : 'This file has no track Upframe can read, neither picture nor sound: it may be damaged.',
      );
    }
    const sequence = videoStream.video!.sequence;
    const description = videoStream.video!.sequenceBytes;
    if (!sequence || !description || sequence.rateNum === 0 || sequence.width === 0) {
      throw new UpframeError(
        'CORRUPT_INPUT',
        'This MPEG file looks damaged: its video has no readable sequence header (the picture ' +
          'size and frame rate), or it is not MPEG-1 or MPEG-2 video.',
      );
    }
    const frameTicks = (90000 * sequence.rateDen) / sequence.rateNum;
    const video = videoTimes(videoStream, frameTicks);
    if (video.ticks.length === 0) {
      throw new UpframeError(
        'CORRUPT_INPUT',
        scan.cut
          ? 'This file is cut short before its first whole picture.'
          : 'This MPEG file looks damaged: none of its pictures can be decoded (there is no ' +
              'intra-coded picture to start from).',
      );
    }
    const warnings: string[] = [];
    const audios: { stream: ScannedStream; timed: Timed }[] = [];
    for (const s of audioStreams) {
      const left = leftOutAudio(s);
      if (left) warnings.push(left);
      else if (s.packets.length > 0) audios.push({ stream: s, timed: audioTimes(s) });
    }
    // the earliest packet kept is at 0
    let startTicks = Infinity;
    for (const t of [video, ...audios.map((a) => a.timed)]) {
      for (let k = 0; k < t.ticks.length; k++) startTicks = Math.min(startTicks, t.ticks[k]!);
    }
    const videoTable = toLocated(video, startTicks);
    const located = new Map<'video' | number, PsLocated>([['video', videoTable]]);
    const audioTracks = audios.map(({ stream, timed }, n) => {
      const table = toLocated(timed, startTicks);
      located.set(n, table);
      return audioInfo(stream, table.packets);
    });
    if (audioTracks.length === 0 && warnings.length > 0) {
      warnings.push('The enhanced video will have no sound.');
    }
    const fields = fieldsOf(videoStream.packets.flags.done());
    const interlaced = !sequence.progressive && fields.interlaced;
    if (interlaced) warnings.push(INTERLACED_NOTE);
    const info = videoInfo(
      sequence,
      description,
      videoTable.packets,
      interlaced && fields.bottomFirst,
    );
    const note = leftOutOthers(scan);
    if (note) warnings.push(note);
    if (scan.cut) {
      const { timestampUs, durationUs, length } = videoTable.packets;
      let endUs = 0;
      for (let k = 0; k < length; k++) endUs = Math.max(endUs, timestampUs[k]! + durationUs[k]!);
      warnings.push(
        `This file ends inside a picture (it is cut short, or one part of a DVD's set of VOB ` +
          `files): it holds ${length} whole frames (${formatDuration(endUs / 1e6)}). Upframe ` +
          'enhances what is there.',
      );
    }
    if (!cdxa && scan.skipped > 64 * 1024) {
      warnings.push(
        `Parts of this file are damaged (${Math.round(scan.skipped / 1024)} KB could not be ` +
          'read): the pictures there may show faults.',
      );
    }
    return new MpegPsInput(blob, info, audioTracks, located, warnings);
  }

  readSubtitles(): Promise<SubtitleCopy[]> {
    return Promise.resolve([]);
  }

  async *read(
    kind: 'video' | 'audio',
    range?: ReadRange,
    audioTrack = 0,
  ): AsyncGenerator<EncodedSample> {
    const table = this.located.get(kind === 'video' ? 'video' : audioTrack);
    if (!table) return;
    const total = table.packets.length;
    const to = Math.min(range?.to ?? total, total);
    const { stream, skip, packets } = table;
    yield* readStretches(
      this.blob,
      table,
      range?.from ?? 0,
      to,
      (bytes, at, k) => extract(bytes, at, stream, skip[k]!, packets.byteLength[k]!, true),
      'this MPEG file',
    );
  }

  close(): void {}
}

/** A DVD's audio stream number (0x80 + n, 0xA0 + n, 0xC0 + n are stream n), else its id. */
function logicalNumber(s: ScannedStream): number {
  return s.kind === 'mpeg-audio' ? s.key & 0x1f : s.key & 0x07;
}

/**
 * Packets [from, to) with their bytes: neighbouring ones from one read of the file, each one's
 * payloads taken out of that stretch by `extract` (bytes, where the packet starts in them, its
 * number), null when they are no longer there. `what` names the file in the error then.
 */
export async function* readStretches(
  blob: Blob,
  t: PsLocated,
  from: number,
  to: number,
  extract: (bytes: Uint8Array, at: number, k: number) => Uint8Array<ArrayBuffer> | null,
  what: string,
): AsyncGenerator<EncodedSample> {
  const { fileStart, fileEnd, packets } = t;
  let i = from;
  while (i < to) {
    const start = fileStart[i]!;
    let end = fileEnd[i]!;
    let j = i + 1;
    while (j < to) {
      const e = Math.max(end, fileEnd[j]!);
      if (fileStart[j]! < start || e - start > READ_SPAN) break;
      end = e;
      j++;
    }
    const bytes = new Uint8Array(await blob.slice(start, end).arrayBuffer());
    for (let k = i; k < j; k++) {
      const data = extract(bytes, fileStart[k]! - start, k);
      if (!data) {
        throw new UpframeError(
          'SOURCE_UNAVAILABLE',
          `Packet ${k + 1} of ${what} could not be read again: the file changed since it was ` +
            'opened.',
        );
      }
      yield {
        timestampUs: packets.timestampUs[k]!,
        durationUs: packets.durationUs[k]!,
        key: packets.key[k] === 1,
        byteLength: packets.byteLength[k]!,
        index: k,
        data,
      };
    }
    i = j;
  }
}

/**
 * The pictures kept, with their times: from the first key picture on (what comes before it
 * cannot be decoded), without the B-pictures of an open first GOP that are shown before it
 * (they need the GOP before). Key pictures are the I-pictures a sequence header precedes when
 * the stream repeats its sequence header, else every I-picture.
 */
export function videoTimes(s: ScannedStream, frameTicks: number): Timed {
  const p = s.packets;
  const flags = p.flags.done();
  const order = p.order.done();
  const fields = p.span.done();
  const pts = p.pts.done();
  const n = flags.length;
  let intra = 0;
  let intraWithSequence = 0;
  for (let k = 0; k < n; k++) {
    if ((flags[k]! & PICTURE_TYPE) !== 1) continue;
    intra++;
    if (flags[k]! & AFTER_SEQUENCE_HEADER) intraWithSequence++;
  }
  const repeated = intraWithSequence >= 2 || intraWithSequence === intra;
  const isKey = (k: number): boolean =>
    (flags[k]! & PICTURE_TYPE) === 1 && (!repeated || (flags[k]! & AFTER_SEQUENCE_HEADER) !== 0);
  // times for every picture (the clock runs through the ones left out)
  const ticks = new Float64Array(n);
  const clock = new PictureClock(frameTicks);
  for (let k = 0; k < n; k++)
    ticks[k] = clock.next(order[k]!, fields[k]!, (flags[k]! & AFTER_GOP) !== 0, pts[k]!);
  const keep = new Uint8Array(n);
  let first = -1;
  for (let k = 0; k < n; k++) {
    if (first < 0 && isKey(k)) first = k;
    if (first >= 0) keep[k] = 1;
  }
  if (first >= 0 && (flags[first]! & CLOSED_GOP) === 0) {
    // an open GOP: its leading B-pictures refer to the GOP before, which is not in the file
    for (
      let k = first + 1;
      k < n && (flags[k]! & PICTURE_TYPE) === 3 && ticks[k]! < ticks[first]!;
      k++
    ) {
      keep[k] = 0;
    }
  }
  return select(s, keep, ticks, (k) => (fields[k]! / 2) * frameTicks, isKey);
}

/**
 * Audio frames' times: their own PTS, else the previous frame's end. LPCM's packets follow one
 * another sample for sample: each takes the previous one's end unless its PTS is far from it
 * (a gap in the recording); a muxer's PTS on them may be a packet off (ffmpeg's are).
 */
export function audioTimes(s: ScannedStream): Timed {
  const p = s.packets;
  const pts = p.pts.done();
  const samples = p.span.done();
  const rate = audioRate(s);
  const n = pts.length;
  const ticks = new Float64Array(n);
  const duration = (k: number): number => (samples[k]! / rate) * 90000;
  // frames before the first PTS count back from it
  let next = 0;
  for (let k = 0; k < n; k++) {
    if (Number.isNaN(pts[k]!)) continue;
    for (let j = 0; j < k; j++) next -= duration(j);
    next += pts[k]!;
    break;
  }
  for (let k = 0; k < n; k++) {
    const own = pts[k]!;
    const carried = Number.isNaN(own) || (s.kind === 'lpcm' && Math.abs(own - next) <= LPCM_GAP);
    ticks[k] = k > 0 && carried ? next : Number.isNaN(own) ? next : own;
    next = ticks[k]! + duration(k);
  }
  return select(s, new Uint8Array(n).fill(1), ticks, duration, () => true);
}

function select(
  s: ScannedStream,
  keep: Uint8Array,
  ticks: Float64Array,
  duration: (k: number) => number,
  key: (k: number) => boolean,
): Timed {
  const p = s.packets;
  const [fileStart, fileEnd, skip, size] = [
    p.fileStart.done(),
    p.fileEnd.done(),
    p.skip.done(),
    p.size.done(),
  ];
  const picked: number[] = [];
  for (let k = 0; k < keep.length; k++) if (keep[k]) picked.push(k);
  const pick = <A extends Float64Array | Uint32Array>(a: A): A => {
    const out = a.slice(0, picked.length) as A;
    picked.forEach((k, j) => (out[j] = a[k]!));
    return out;
  };
  return {
    located: {
      stream: s.key,
      fileStart: pick(fileStart),
      fileEnd: pick(fileEnd),
      skip: pick(skip),
    },
    ticks: Float64Array.from(picked, (k) => ticks[k]!),
    durationTicks: Float64Array.from(picked, duration),
    sizes: pick(size),
    key: Uint8Array.from(picked, (k) => (key(k) ? 1 : 0)),
  };
}

/** The track's table in microseconds from `startTicks`. */
export function toLocated(t: Timed, startTicks: number): PsLocated {
  const us = (ticks: number): number => Math.round(((ticks - startTicks) * 100) / 9);
  const packets = new PacketTable(
    Float64Array.from(t.ticks, us),
    Float64Array.from(t.ticks, (v, k) => us(v + t.durationTicks[k]!) - us(v)),
    t.sizes,
    t.key,
  );
  return { ...t.located, packets };
}

function audioRate(s: ScannedStream): number {
  if (s.kind === 'lpcm') return LPCM_RATES[((s.lpcmFormat ?? 0) >> 4) & 3]!;
  return s.audio?.format?.sampleRate ?? 48000;
}

/** Why an audio stream cannot be kept, in words, or null when it is kept. */
export function leftOutAudio(s: ScannedStream): string | null {
  const layer = s.audio?.format?.layer;
  if (s.kind === 'mpeg-audio' && layer === 1) {
    return (
      "This file's MPEG audio (MP1) cannot be kept: Upframe cannot copy this format, and it " +
      'is left out of the enhanced file.'
    );
  }
  if (s.kind === 'lpcm' && s.dropped) {
    return (
      `This file's LPCM audio (${lpcmBits(s.lpcmFormat ?? 0)}-bit) cannot be kept: Upframe ` +
      'copies 16-bit LPCM only, and it is left out of the enhanced file.'
    );
  }
  return null;
}

/** What else the file holds that is left out: DTS, DVD subtitles, a second video stream. */
function leftOutOthers(scan: PsScan): string | null {
  const keys = [...scan.others.keys()];
  const dts = keys.filter((k) => k >= 0x188 && k <= 0x18f).length;
  const notes: string[] = [];
  if (dts > 0) {
    notes.push(
      `This file's DTS audio cannot be kept: Upframe cannot copy this format, and ` +
        `${dts === 1 ? 'it is' : `its ${dts} DTS tracks are`} left out of the enhanced file.`,
    );
  }
  const left = leftOutNote({
    audio: 0,
    subtitle: keys.filter((k) => k >= 0x120 && k <= 0x13f).length,
    video: keys.filter((k) => k >= 0xe0 && k <= 0xef).length,
    other: 0,
  });
  if (left) notes.push(left);
  return notes.length > 0 ? notes.join(' ') : null;
}

/** How many of the first pictures are read to tell whether the video is interlaced. */
const FIELD_PROBE = 60;

/**
 * Whether the first pictures of an interlaced sequence are interlaced frames (a film on DVD is
 * stored as progressive frames in one), and whether the first says its bottom field comes first.
 */
export function fieldsOf(flags: Uint8Array): { interlaced: boolean; bottomFirst: boolean } {
  let interlaced = false;
  for (let k = 0; k < Math.min(flags.length, FIELD_PROBE); k++) {
    if ((flags[k]! & PROGRESSIVE_FRAME) === 0) interlaced = true;
  }
  return { interlaced, bottomFirst: flags.length > 0 && (flags[0]! & TOP_FIELD_FIRST) === 0 };
}

export function videoInfo(
  seq: SequenceInfo,
  description: Uint8Array,
  packets: PacketTable,
  bottomFirst: boolean,
): VideoTrackInfo {
  const codec = seq.mpeg2 ? 'mpeg2' : 'mpeg1';
  const aspect = pixelAspectOf(seq);
  const colorSpace = seq.colour
    ? colorSpaceFromCodes(seq.colour[0], seq.colour[1], seq.colour[2], false)
    : null;
  return {
    kind: 'video',
    codec,
    codecName: seq.mpeg2 ? 'MPEG-2' : 'MPEG-1',
    decoderConfig: {
      codec,
      codedWidth: seq.width,
      codedHeight: seq.height,
      description,
      ...(aspect ? displayAspect(seq.width, seq.height, aspect) : {}),
      ...(colorSpace ? { colorSpace } : {}),
    },
    width: seq.width,
    height: seq.height,
    rotation: 0,
    pixelAspect: aspect,
    colorSpace,
    packets,
    ...(bottomFirst ? { fieldOrder: 'bottom-first' as const } : {}),
  };
}

/** A pixel's shape: MPEG-1's pel aspect code, or MPEG-2's display aspect over the display size. */
function pixelAspectOf(seq: SequenceInfo): PixelAspect | null {
  if (!seq.mpeg2) {
    const v = MPEG1_PEL_ASPECT[seq.aspectCode] ?? 0;
    return v > 0 ? pixelAspect(10000, v) : null;
  }
  const dar = MPEG2_DISPLAY_ASPECT[seq.aspectCode];
  if (!dar) return null;
  const w = seq.displayWidth ?? seq.width;
  const h = seq.displayHeight ?? seq.height;
  return pixelAspect(dar[0] * h, dar[1] * w);
}

export function audioInfo(s: ScannedStream, packets: PacketTable): AudioTrackInfo {
  const base = { kind: 'audio' as const, packets, language: null, title: null };
  if (s.kind === 'lpcm') {
    const format = s.lpcmFormat ?? 0;
    const channels = 1 + (format & 7);
    const sampleRate = audioRate(s);
    return {
      ...base,
      codec: 'pcm-s16be',
      muxCodec: 'pcm-s16be',
      codecName: 'LPCM (16-bit)',
      channels,
      sampleRate,
      decoderConfig: { codec: 'pcm-s16be', numberOfChannels: channels, sampleRate },
    };
  }
  const f = s.audio!.format!;
  // MP2 (VCDs, many DVDs) goes into MP4 as MPEG-1 audio; MP3 is kept as it is anywhere
  const mp2 = s.kind !== 'ac3' && f.layer === 2;
  const codec = s.kind === 'ac3' ? 'ac-3' : mp2 ? 'mp2' : 'mp3';
  // WebCodecs' (and mediabunny's) id of MPEG-1 audio of any layer
  const decoderCodec = mp2 ? 'mp4a.6b' : codec;
  return {
    ...base,
    codec,
    muxCodec: s.kind === 'ac3' ? 'ac3' : mp2 ? 'mp2' : 'mp3',
    codecName: s.kind === 'ac3' ? 'AC-3' : mp2 ? 'MP2' : 'MP3',
    channels: f.channels,
    sampleRate: f.sampleRate,
    decoderConfig: { codec: decoderCodec, numberOfChannels: f.channels, sampleRate: f.sampleRate },
  };
}
