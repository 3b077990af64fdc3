/**
 * AVI (RIFF) reader, behind the MediaInput interface: older digital cameras', dashcams' and
 * webcams' files, which hold Motion JPEG with PCM sound (jpeg-decoder.ts decodes the pictures).
 *
 * Where the packets are (avi-riff.ts) comes from, in this order: the OpenDML index (an `indx` super index per
 * stream pointing at `ix##` chunks; files over 1 GB need it, ffmpeg writes it only then), the
 * legacy `idx1` at the end of the first RIFF, else a walk of the `movi` lists' chunks. An index
 * is trusted for the data it covers and the rest is walked; a file with no index at all (a camera
 * or dashcam that lost power writes none, and leaves its RIFF and movi sizes unset) is walked
 * whole. Packets an index places beyond the file's end are left out, and the summary says the
 * file is cut short.
 *
 * AVI gives no timestamps: video frame k shows at k x dwScale / dwRate; a zero-size chunk is a
 * dropped frame (the previous one stays on screen longer). Audio times count its sample frames
 * (or, for other fixed-rate audio, its bytes). IMA ADPCM, 8-bit PCM and G.711, which no output holds,
 * are handed out as 16-bit PCM (audio-to-s16.ts).
 */
import { UpframeError } from '../shared/errors.ts';
import { formatDuration } from '../shared/format.ts';
import { byteCodecToS16, imaAdpcmToS16, imaSamplesPerBlock } from './audio-to-s16.ts';
import {
  avcCLengthSize,
  aviH264,
  B_FRAME_PROBE,
  bFramesError,
  firstSliceIn,
  displayPlaces,
  H264_FOURCCS,
  ParameterSets,
  pictureKind,
  type AviH264,
} from './avi-h264.ts';
import { aviMpeg } from './avi-mpeg.ts';
import { audioCodecName, muxAudioCodec } from './codecs.ts';
import { INTERLACED_NOTE } from './h264-sps.ts';
import { mpegFields } from './mpeg-video-decoder.ts';
import type { MediaInput, ReadRange } from './input-types.ts';
import { cutShortNote } from './mkv-input.ts';
import { MJPEG_FOURCCS } from './mkv-tracks.ts';
import {
  bytesAt,
  fourcc,
  locateChunks,
  MAX_TABLE_BYTES,
  readHeader,
  riffLayout,
  u16,
  u32,
  type AviIndexChoice,
  type Chunk,
  type Classifier,
  type Stream,
} from './avi-riff.ts';
import { PacketTable, readLocated, type LocatedPackets } from './packet-table.ts';

export type { AviIndexChoice };
type Located = LocatedPackets;
import type { SubtitleCopy } from './subtitle-text.ts';
import type { AudioTrackInfo, EncodedSample, VideoTrackInfo } from './types.ts';

/** Person-facing names of the video FourCCs AVI files hold. */
const VIDEO_FOURCC: Record<string, string> = {
  MJPG: 'Motion JPEG',
  XVID: 'MPEG-4 Part 2 (Xvid/DivX)',
  DIVX: 'MPEG-4 Part 2 (Xvid/DivX)',
  DX50: 'MPEG-4 Part 2 (Xvid/DivX)',
  FMP4: 'MPEG-4 Part 2 (Xvid/DivX)',
  MP4V: 'MPEG-4 Part 2 (Xvid/DivX)',
  DIV3: 'MS MPEG-4 (DivX 3)',
  MP43: 'MS MPEG-4 (DivX 3)',
  MP42: 'MS MPEG-4',
  H264: 'H.264',
  X264: 'H.264',
  AVC1: 'H.264',
  WMV1: 'Windows Media Video',
  WMV2: 'Windows Media Video',
  WMV3: 'Windows Media Video',
  DVSD: 'DV',
  CVID: 'Cinepak',
  HFYU: 'Huffyuv',
  FFV1: 'FFV1',
  MPG2: 'MPEG-2',
};

/** Audio format tags (WAVEFORMATEX wFormatTag) named as people know them. */
const AUDIO_TAGS: Record<number, string> = {
  0x02: 'MS ADPCM',
  0x06: 'A-law',
  0x07: 'μ-law',
  0x11: 'IMA ADPCM',
  0x50: 'MPEG audio (MP2)',
  0x55: 'MP3',
  0xff: 'AAC',
  0x161: 'Windows Media Audio',
  0x2000: 'AC-3',
  0x2001: 'DTS',
};

/** The PCM codec id of a WAVEFORMATEX(TENSIBLE), or null for another format. */
function pcmCodec(format: Uint8Array): string | null {
  let tag = u16(format, 0);
  // WAVE_FORMAT_EXTENSIBLE: the sub-format GUID starts with the real tag
  if (tag === 0xfffe && format.length >= 26) tag = u16(format, 24);
  const bits = u16(format, 14);
  if (tag === 1 && [8, 16, 24, 32].includes(bits)) return bits === 8 ? 'pcm-u8' : `pcm-s${bits}`;
  if ((tag === 6 || tag === 7) && bits === 8) return tag === 6 ? 'alaw' : 'ulaw';
  if (tag === 3 && (bits === 32 || bits === 64)) return `pcm-f${bits}`;
  return null;
}

export class AviInput implements MediaInput {
  readonly container = 'avi' as const;
  readonly subtitleTracks = [];

  private constructor(
    readonly blob: Blob,
    readonly video: VideoTrackInfo,
    readonly audioTracks: readonly AudioTrackInfo[],
    private readonly located: ReadonlyMap<'video' | number, Located>,
    readonly warnings: string[],
  ) {}

  get audio(): AudioTrackInfo | null {
    return this.audioTracks[0] ?? null;
  }

  static async open(blob: Blob, index: AviIndexChoice = 'auto'): Promise<AviInput> {
    const damaged = (why: string): UpframeError =>
      new UpframeError('CORRUPT_INPUT', `This AVI file looks damaged: ${why}.`);
    const layout = await riffLayout(blob);
    const { hdrl, movis, unclosed } = layout;
    if (!hdrl || hdrl.size > MAX_TABLE_BYTES) throw damaged('its header list (hdrl) is missing');
    const { streams, declaredFrames } = readHeader(await bytesAt(blob, hdrl.at, hdrl.size));
    const videoStream = streams.find((s) => s.type === 'vids');
    if (!videoStream) {
      throw new UpframeError(
        'NO_VIDEO_TRACK',
        streams.some((s) => s.type === 'auds')
          ? 'This file has sound but no picture: Upframe needs a video track.'
          : 'This file has no track Upframe can read, neither picture nor sound: it may be damaged.',
      );
    }
    if (movis.length === 0) throw damaged('it holds no frames (no movi list)');

    const found = await locateChunks(blob, layout, streams, index, h264Classifier(videoStream));
    if (!found) throw damaged(`it has no ${index} index`);
    const chunks = found.chunks;
    const warnings: string[] = [];
    const located = new Map<'video' | number, Located>();
    const h264 =
      (await h264Of(blob, videoStream, chunks)) ??
      (await aviMpeg(blob, videoStream, chunks, bitmapInfo(videoStream)));
    const video = videoTrack(videoStream, chunks[videoStream.number]!, blob.size, h264);
    located.set('video', video.located);
    if (video.info.packets.length === 0) throw damaged('none of its frames can be read');
    const audioTracks: AudioTrackInfo[] = [];
    for (const s of streams) {
      if (s.type !== 'auds' || s.format.length < 16) continue;
      const track = audioTrack(s, chunks[s.number]!, blob.size);
      located.set(audioTracks.length, track.located);
      audioTracks.push(track.info);
    }
    const frameUs = (videoStream.scale / videoStream.rate) * 1e6;
    const declared = declaredFrames > 0 ? (declaredFrames * frameUs) / 1e6 : null;
    const note =
      cutShortNote(declared, video.info, audioTracks[0] ?? null) ??
      // without a frame count in its header, a file left open says only that it was
      (declared === null && (unclosed || found.walked)
        ? `This file was not closed by its recorder (it may have lost power): it holds ` +
          `${video.info.packets.length} frames (${formatDuration(shownSeconds(video.info))}). ` +
          'Upframe enhances what is there.'
        : null);
    if (note) warnings.push(note);
    if (mpegFields(video.info)) warnings.push(INTERLACED_NOTE);
    if (streams.some((s) => s.type !== 'vids' && s.type !== 'auds')) {
      warnings.push('Left out of the enhanced file: a text or data track of this AVI file.');
    }
    if (streams.filter((s) => s.type === 'vids').length > 1) {
      warnings.push('Left out of the enhanced file: a second video track.');
    }
    return new AviInput(blob, video.info, audioTracks, located, warnings);
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
    const total = table.offsets.length;
    yield* readLocated(this.blob, table, range?.from ?? 0, Math.min(range?.to ?? total, total));
  }

  close(): void {}
}

/** Where the last frame of a track ends, in seconds. */
function shownSeconds(video: VideoTrackInfo): number {
  const { timestampUs, durationUs, length } = video.packets;
  return length > 0 ? (timestampUs[length - 1]! + durationUs[length - 1]!) / 1e6 : 0;
}

/** The chunks whose data is inside the file (a cut file's index still lists the lost ones). */
function inside(chunks: readonly Chunk[], fileSize: number): Chunk[] {
  return chunks.filter((c) => c.offset + c.size <= fileSize);
}

/** The width, height and compression FourCC of a video stream's BITMAPINFOHEADER. */
function bitmapInfo(s: Stream): {
  width: number;
  height: number;
  compression: string;
  tag: string;
} {
  const f = s.format;
  const width = f.length >= 12 ? u32(f, 4) : 0;
  // a negative height is a top-down bitmap: the size is its magnitude
  const rawHeight = f.length >= 12 ? u32(f, 8) : 0;
  const height = rawHeight >= 2 ** 31 ? 2 ** 32 - rawHeight : rawHeight;
  const compression = f.length >= 20 ? fourcc(f, 16) : s.handler;
  return { width, height, compression, tag: compression.toUpperCase().trim() };
}

/** The extra data after a video stream's 40-byte BITMAPINFOHEADER, and its NAL length size. */
function h264Extradata(s: Stream): { extradata: Uint8Array; lengthSize: number } {
  const extradata = s.format.length > 40 ? s.format.subarray(40) : new Uint8Array(0);
  return { extradata, lengthSize: avcCLengthSize(extradata) };
}

/** For an H.264 stream, what the walk should tell of its chunks; null for other video. */
function h264Classifier(s: Stream): Classifier | null {
  if (!H264_FOURCCS.has(bitmapInfo(s).tag)) return null;
  const { lengthSize } = h264Extradata(s);
  return { stream: s.number, of: (head, whole) => pictureKind(head, lengthSize, whole) };
}

/**
 * For H.264 (avi-h264.ts): its decoder configuration. Each picture's key flag is whether it is
 * an IDR picture (an index's flag is not enough: writers flag intra-refresh pictures and all
 * pictures); a chunk of parameter sets alone is folded into what is put in front of IDR
 * pictures; refused when its first pictures have B-frames. Null for other video.
 */
async function h264Of(blob: Blob, s: Stream, chunks: Chunk[][]): Promise<AviH264 | null> {
  const { width, height, tag } = bitmapInfo(s);
  if (!H264_FOURCCS.has(tag)) return null;
  const { extradata, lengthSize } = h264Extradata(s);
  const all = chunks[s.number]!;
  // a picture's start, far enough to reach its first slice (an encoder's SEI may come first:
  // x264's settings take some 700 bytes)
  const head = async (c: Chunk, size = 4096): Promise<Uint8Array> => {
    const bytes = await bytesAt(blob, c.offset, Math.min(c.size, size));
    return firstSliceIn(bytes, lengthSize) || bytes.length >= c.size || size >= 256 * 1024
      ? bytes
      : head(c, size * 8);
  };
  const kept: Chunk[] = [];
  let inBandSets: Uint8Array | null = null;
  let probed = 0;
  let reorder = false;
  for (const c of all) {
    if (c.size === 0 || c.offset + c.size > blob.size) {
      kept.push(c);
      continue;
    }
    // an index's pictures are looked at where they are keys or too small to hold a picture, or
    // among the first ones (B-frames); the walk classified the rest as it passed
    let kind = c.kind ?? null;
    const look = kind === null && (c.key || c.walked || c.size < 1024 || probed < B_FRAME_PROBE);
    if (look) kind = pictureKind(await head(c), lengthSize, true);
    if (kind === 'params') {
      inBandSets ??= await bytesAt(blob, c.offset, c.size);
      continue;
    }
    if (probed < B_FRAME_PROBE && kind !== null) {
      probed++;
      if (kind === 'b') reorder = true;
    }
    kept.push({ ...c, key: kind === 'idr' });
  }
  // pictures before the first IDR picture (a file that starts inside a group of pictures) cannot
  // be decoded: they keep their place in time as dropped frames
  const start = kept.findIndex((c) => c.key);
  for (let k = 0; k < start; k++) kept[k] = { ...kept[k]!, size: 0 };
  chunks[s.number] = kept;
  const first = kept[start];
  const h264 = aviH264(extradata, first ? await head(first, 64 * 1024) : null, inBandSets, {
    width,
    height,
  });
  return reorder
    ? { ...h264, places: await displaySlots(kept, head, extradata, inBandSets) }
    : h264;
}

/**
 * With B-frames (AVI keeps no display order): each chunk's display slot, from the order counts
 * of its slice headers (avi-h264.ts displayPlaces); one read of each picture's first bytes.
 * Refused as before when the counts cannot be read (order count types 1 and 2 have no B-frames
 * in practice, and a damaged header has no order).
 */
async function displaySlots(
  list: readonly Chunk[],
  head: (c: Chunk) => Promise<Uint8Array>,
  extradata: Uint8Array,
  inBandSets: Uint8Array | null,
): Promise<(number | null)[]> {
  const lengthSize = avcCLengthSize(extradata);
  const sets = new ParameterSets();
  if (lengthSize > 0) {
    // an avcC record: its SPS and PPS, each with a 2-byte length, as Annex B for the reader
    const units: number[] = [];
    let at = 6;
    for (let n = extradata[5]! & 0x1f, pass = 0; pass < 2; pass++) {
      for (let k = 0; k < n && at + 2 <= extradata.length; k++) {
        const len = (extradata[at]! << 8) | extradata[at + 1]!;
        units.push(0, 0, 1, ...extradata.subarray(at + 2, at + 2 + len));
        at += 2 + len;
      }
      n = extradata[at++] ?? 0;
    }
    sets.add(Uint8Array.from(units), 0);
  } else sets.add(extradata, 0);
  if (inBandSets) sets.add(inBandSets, 0);
  const pictures = list.flatMap((c, i) => (c.size > 0 ? [i] : []));
  const counts = [];
  for (const i of pictures) {
    const bytes = await head(list[i]!);
    sets.add(bytes, lengthSize);
    counts.push(sets.orderCount(bytes, lengthSize));
  }
  const places = displayPlaces(counts);
  if (!places) throw bFramesError();
  const slots = new Array<number | null>(list.length).fill(null);
  const from = pictures[0] ?? 0;
  pictures.forEach((i, j) => (slots[i] = from + places[j]!));
  return slots;
}

function videoTrack(
  s: Stream,
  all: readonly Chunk[],
  fileSize: number,
  h264: AviH264 | null,
): { info: VideoTrackInfo; located: Located } {
  const { compression, tag } = bitmapInfo(s);
  const width = h264?.width ?? bitmapInfo(s).width;
  const height = h264?.height ?? bitmapInfo(s).height;
  const mjpeg = MJPEG_FOURCCS.has(tag || s.handler.toUpperCase());
  const codec = mjpeg
    ? 'mjpeg'
    : (h264?.config.codec ?? `avi-${compression.trim() || s.handler.trim()}`);
  const frameUs = s.rate > 0 && s.scale > 0 ? (s.scale / s.rate) * 1e6 : 40_000;
  // frame k shows at k frames; a zero-size chunk is a dropped frame: the one before stays
  const kept: { chunk: Chunk; frame: number }[] = [];
  // with B-frames, frame k (in decode order) shows at its display slot instead
  const places = h264?.places;
  all.forEach((chunk, frame) => {
    if (chunk.size > 0) kept.push({ chunk, frame: places?.[frame] ?? frame });
  });
  const within = new Set(
    inside(
      kept.map((k) => k.chunk),
      fileSize,
    ),
  );
  const shown = kept.filter((k) => within.has(k.chunk));
  const n = shown.length;
  const packets = PacketTable.ofLength(n);
  const offsets = new Float64Array(n);
  const sizes = new Uint32Array(n);
  shown.forEach(({ chunk, frame }, k) => {
    // (dropped frames at the end keep the last picture on screen too)
    const next = places
      ? frame + 1
      : k + 1 < n
        ? shown[k + 1]!.frame
        : Math.max(frame + 1, all.length);
    packets.set(k, {
      timestampUs: Math.round(frame * frameUs),
      durationUs: Math.round(next * frameUs) - Math.round(frame * frameUs),
      byteLength: chunk.size,
      key: mjpeg || chunk.key,
    });
    offsets[k] = chunk.offset;
    sizes[k] = chunk.size;
  });
  return {
    info: {
      kind: 'video',
      codec,
      codecName: VIDEO_FOURCC[tag] ?? `'${compression.trim()}'`,
      decoderConfig: h264?.config ?? { codec, codedWidth: width, codedHeight: height },
      width,
      height,
      rotation: 0,
      pixelAspect: null,
      colorSpace: h264?.config.colorSpace ?? null,
      packets,
    },
    located: { offsets, sizes, packets, convert: h264?.withParameterSets ?? undefined },
  };
}

function audioTrack(
  s: Stream,
  all: readonly Chunk[],
  fileSize: number,
): { info: AudioTrackInfo; located: Located } {
  const f = s.format;
  const tag = u16(f, 0);
  const channels = u16(f, 2);
  const sampleRate = u32(f, 4);
  const bytesPerSecond = u32(f, 8);
  const blockAlign = Math.max(1, u16(f, 12));
  const pcm = pcmCodec(f);
  const ima = tag === 0x11 && u16(f, 14) === 4 && (channels === 1 || channels === 2);
  // what no output holds, as 16-bit PCM (audio-to-s16.ts); a packet's size is its converted size
  const bytewise = pcm ? byteCodecToS16(pcm) : null;
  const convert = bytewise
    ? {
        read: bytewise,
        frames: (bytes: number) => bytes / channels,
        name: pcm === 'pcm-u8' ? 'PCM (8-bit)' : pcm === 'ulaw' ? 'μ-law' : 'A-law',
      }
    : ima
      ? {
          read: (d: Uint8Array) => imaAdpcmToS16(d, channels, blockAlign),
          frames: (bytes: number) =>
            Math.floor(bytes / blockAlign) * imaSamplesPerBlock(blockAlign, channels),
          name: 'IMA ADPCM',
        }
      : null;
  const codec = convert ? 'pcm-s16' : (pcm ?? `avi-audio-${tag.toString(16)}`);
  const chunks = inside(all, fileSize).filter((c) => c.size > 0);
  const n = chunks.length;
  const packets = PacketTable.ofLength(n);
  const offsets = new Float64Array(n);
  const sizes = new Uint32Array(n);
  // sample frames in a chunk where they can be counted (PCM, converted formats)
  const framesIn: ((bytes: number) => number) | null = convert
    ? convert.frames
    : pcm
      ? (bytes) => bytes / blockAlign
      : null;
  // other fixed-rate audio counts bytes; a VBR stream (sampleSize 0) counts chunks
  const chunkUs = s.rate > 0 ? (s.scale / s.rate) * 1e6 : 0;
  const timeOf = (bytes: number, k: number): number =>
    framesIn
      ? (framesIn(bytes) / sampleRate) * 1e6
      : s.sampleSize > 0
        ? (bytes / bytesPerSecond) * 1e6
        : k * chunkUs;
  let bytes = 0;
  chunks.forEach((c, k) => {
    const at = timeOf(bytes, k);
    const end = timeOf(bytes + c.size, k + 1);
    const byteLength = convert ? convert.frames(c.size) * channels * 2 : c.size;
    packets.set(k, { timestampUs: at, durationUs: end - at, byteLength, key: true });
    offsets[k] = c.offset;
    sizes[k] = c.size;
    bytes += c.size;
  });
  const muxCodec = convert || pcm ? muxAudioCodec(codec, sampleRate) : null;
  return {
    info: {
      kind: 'audio',
      codec,
      muxCodec,
      codecName: convert
        ? convert.name
        : pcm
          ? audioCodecName(pcm)
          : (AUDIO_TAGS[tag] ?? `audio format 0x${tag.toString(16)}`),
      ...(convert ? { keptAs: '16-bit PCM' } : {}),
      channels,
      sampleRate,
      decoderConfig: { codec, numberOfChannels: channels, sampleRate },
      packets,
      language: null,
      title: null,
    },
    located: { offsets, sizes, packets, convert: convert?.read },
  };
}
