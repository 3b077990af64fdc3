/**
 * AVI (RIFF) reader, behind the MediaInput interface: older digital cameras', dashcams' and
 * webcams' files, which hold Motion JPEG with PCM sound (jpeg-decoder.ts decodes the pictures).
 *
 * Where the packets are comes from, in this order: the OpenDML index (an `indx` super index per
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
  H264_FOURCCS,
  pictureKind,
  type AviH264,
  type PictureKind,
} from './avi-h264.ts';
import { audioCodecName, muxAudioCodec } from './codecs.ts';
import type { MediaInput, ReadRange } from './input-types.ts';
import { cutShortNote } from './mkv-input.ts';
import { MJPEG_FOURCCS } from './mkv-tracks.ts';
import { PacketTable, readLocated, type LocatedPackets } from './packet-table.ts';
import type { SubtitleCopy } from './subtitle-text.ts';
import type { AudioTrackInfo, EncodedSample, VideoTrackInfo } from './types.ts';

/** Which index to read (tests compare them); `auto` is the order above. */
export type AviIndexChoice = 'auto' | 'odml' | 'idx1' | 'walk';

/** idx1's AVIIF_KEYFRAME. */
const IDX1_KEY = 0x10;
/** The most of a header list (hdrl) or index chunk read at once (a two-hour file's ix: ~2 MB). */
const MAX_TABLE_BYTES = 64 * 1024 * 1024;

interface Stream {
  readonly number: number;
  /** strh fccType: 'vids', 'auds', 'txts' ... */
  readonly type: string;
  readonly handler: string;
  readonly scale: number;
  readonly rate: number;
  readonly sampleSize: number;
  /** strf: BITMAPINFOHEADER (video) or WAVEFORMATEX (audio). */
  readonly format: Uint8Array;
  /** indx, the OpenDML super index, or null. */
  readonly superIndex: Uint8Array | null;
}

/** One chunk's data in the file. */
interface Chunk {
  readonly offset: number;
  readonly size: number;
  readonly key: boolean;
  /** Found by walking, with no index to say whether it is a key frame. */
  readonly walked?: true;
  /** For H.264, what its first bytes say it is (avi-h264.ts), when the walk saw them. */
  readonly kind?: PictureKind;
}

/** What a walk is told to look at in the video stream's chunks as it passes them. */
interface Classifier {
  readonly stream: number;
  /** Null when the bytes seen do not reach the first slice. */
  readonly of: (head: Uint8Array, whole: boolean) => PictureKind | null;
}

type Located = LocatedPackets;

const fourcc = (b: Uint8Array, at: number): string =>
  String.fromCharCode(b[at]!, b[at + 1]!, b[at + 2]!, b[at + 3]!);
const u16 = (b: Uint8Array, at: number): number => b[at]! | (b[at + 1]! << 8);
const u32 = (b: Uint8Array, at: number): number =>
  (b[at]! | (b[at + 1]! << 8) | (b[at + 2]! << 16)) + b[at + 3]! * 2 ** 24;

async function bytesAt(blob: Blob, at: number, size: number): Promise<Uint8Array<ArrayBuffer>> {
  return new Uint8Array(await blob.slice(at, Math.min(at + size, blob.size)).arrayBuffer());
}

/** The children of a RIFF list whose data is `b[from, to)`: id, data start and size. */
function* children(
  b: Uint8Array,
  from: number,
  to: number,
): Generator<{ id: string; at: number; size: number }> {
  let p = from;
  while (p + 8 <= to) {
    const size = u32(b, p + 4);
    yield { id: fourcc(b, p), at: p + 8, size: Math.min(size, to - p - 8) };
    p += 8 + size + (size & 1);
  }
}

/** The streams of the header list (hdrl), and the frame count it declares. */
function readHeader(hdrl: Uint8Array): { streams: Stream[]; declaredFrames: number } {
  const streams: Stream[] = [];
  let declaredFrames = 0;
  let odmlFrames = 0;
  // a stream's number (its chunks' '00', '01' ...) is its strl's place, whether read or not
  let strl = 0;
  for (const c of children(hdrl, 0, hdrl.length)) {
    if (c.id === 'avih' && c.size >= 20) declaredFrames = u32(hdrl, c.at + 16);
    if (c.id !== 'LIST' || c.size < 4) continue;
    const list = fourcc(hdrl, c.at);
    if (list === 'odml') {
      for (const d of children(hdrl, c.at + 4, c.at + c.size)) {
        if (d.id === 'dmlh' && d.size >= 4) odmlFrames = u32(hdrl, d.at);
      }
    }
    if (list !== 'strl') continue;
    let strh: Uint8Array | null = null;
    let strf: Uint8Array = new Uint8Array(0);
    let indx: Uint8Array | null = null;
    for (const d of children(hdrl, c.at + 4, c.at + c.size)) {
      const data = hdrl.subarray(d.at, d.at + d.size);
      if (d.id === 'strh') strh = data;
      else if (d.id === 'strf') strf = data;
      else if (d.id === 'indx') indx = data;
    }
    const number = strl++;
    if (!strh || strh.length < 48) continue;
    streams.push({
      number,
      type: fourcc(strh, 0),
      handler: fourcc(strh, 4),
      scale: u32(strh, 20),
      rate: u32(strh, 24),
      sampleSize: u32(strh, 44),
      format: strf,
      superIndex: indx,
    });
  }
  return { streams, declaredFrames: Math.max(declaredFrames, odmlFrames) };
}

/** The stream a chunk id ('00dc', '01wb') belongs to, or -1 (a list, JUNK, an index chunk). */
function streamOf(id: string): number {
  const n = id.charCodeAt(0) - 48;
  const m = id.charCodeAt(1) - 48;
  if (n < 0 || n > 9 || m < 0 || m > 9) return -1;
  const kind = id.slice(2);
  // 'pc' is a palette change, not a picture
  return kind === 'dc' || kind === 'db' || kind === 'wb' ? n * 10 + m : -1;
}

/**
 * Every chunk of the picture and sound streams from the OpenDML index, or null when one of them
 * has none (or an empty one, as a recorder that stopped before closing leaves it). Each ix##
 * chunk is read by the size its own header gives (writers differ on the super index's dwSize).
 */
async function odmlChunks(
  blob: Blob,
  streams: readonly Stream[],
  count: number,
): Promise<Chunk[][] | null> {
  const out: Chunk[][] = Array.from({ length: count }, () => []);
  for (const s of streams) {
    if (s.type !== 'vids' && s.type !== 'auds') continue;
    const sup = s.superIndex;
    // wLongsPerEntry 4, bIndexType 0 (AVI_INDEX_OF_INDEXES)
    if (!sup || sup.length < 24 || u16(sup, 0) !== 4 || sup[3] !== 0) return null;
    const chunks = out[s.number]!;
    const entries = Math.min(u32(sup, 4), Math.floor((sup.length - 24) / 16));
    for (let e = 0; e < entries; e++) {
      const at = 24 + 16 * e;
      const offset = u32(sup, at) + u32(sup, at + 4) * 2 ** 32;
      const head = await bytesAt(blob, offset, 8);
      if (head.length < 8 || fourcc(head, 0).slice(0, 2) !== 'ix') break;
      const size = u32(head, 4);
      if (size > MAX_TABLE_BYTES) break;
      const ix = await bytesAt(blob, offset, 8 + size);
      // after the header: wLongsPerEntry, bIndexSubType, bIndexType 1 (of chunks)
      if (ix.length < 32 || ix[11] !== 1) return null;
      const longs = u16(ix, 8);
      if (longs < 2) return null;
      const count = u32(ix, 12);
      const base = u32(ix, 20) + u32(ix, 24) * 2 ** 32;
      for (let k = 0; k < count; k++) {
        const p = 32 + 4 * longs * k;
        if (p + 8 > ix.length) break;
        const raw = u32(ix, p + 4);
        chunks.push({ offset: base + u32(ix, p), size: raw % 2 ** 31, key: raw < 2 ** 31 });
      }
    }
    if (chunks.length === 0) return null;
  }
  return out;
}

/** Every chunk of each stream from idx1, or null when there is none or it points nowhere. */
async function idx1Chunks(
  blob: Blob,
  idx1: { at: number; size: number } | null,
  movi: number,
  count: number,
): Promise<Chunk[][] | null> {
  if (!idx1 || idx1.size < 16 || idx1.size > MAX_TABLE_BYTES) return null;
  const b = await bytesAt(blob, idx1.at, idx1.size);
  const entries = Math.floor(b.length / 16);
  // offsets count from the 'movi' list type, or (some writers) from the file's start: the first
  // entry's id says which
  let base: number | null = null;
  for (let e = 0; e < entries && base === null; e++) {
    const id = fourcc(b, 16 * e);
    if (streamOf(id) < 0) continue;
    const off = u32(b, 16 * e + 8);
    for (const candidate of [movi, 0]) {
      const head = await bytesAt(blob, candidate + off, 4);
      if (head.length === 4 && fourcc(head, 0) === id) {
        base = candidate;
        break;
      }
    }
    if (base === null) return null;
  }
  if (base === null) return null;
  const out: Chunk[][] = Array.from({ length: count }, () => []);
  for (let e = 0; e < entries; e++) {
    const s = streamOf(fourcc(b, 16 * e));
    if (s < 0 || s >= count) continue;
    out[s]!.push({
      offset: base + u32(b, 16 * e + 8) + 8,
      size: u32(b, 16 * e + 12),
      key: (u32(b, 16 * e + 4) & IDX1_KEY) !== 0,
    });
  }
  return out;
}

/** How much the walk reads at a time: small, so that a big picture's bytes are skipped. */
const WALK_WINDOW = 16 * 1024;

/**
 * Every chunk of each stream in the movi lists, from `from` on (an index's end), walking chunk
 * headers (into 'rec ' groups) up to a cut.
 */
async function walkChunks(
  blob: Blob,
  movis: readonly { at: number; end: number }[],
  count: number,
  from = 0,
  classify: Classifier | null = null,
): Promise<Chunk[][]> {
  const out: Chunk[][] = Array.from({ length: count }, () => []);
  for (const movi of movis) {
    const end = Math.min(movi.end, blob.size);
    let p = Math.max(movi.at, from);
    if (p >= end) continue;
    let window: Uint8Array = new Uint8Array(0);
    let windowAt = 0;
    while (p + 8 <= end) {
      if (p < windowAt || p + 12 > windowAt + window.length) {
        windowAt = p;
        window = await bytesAt(blob, p, WALK_WINDOW);
        if (window.length < 8) break;
      }
      const id = fourcc(window, p - windowAt);
      const size = u32(window, p - windowAt + 4);
      if (id === 'LIST') {
        p += 12; // a 'rec ' group: its chunks follow
        continue;
      }
      // a chunk whose data runs past the end was cut: it and what follows are gone
      if (p + 8 + size > end) break;
      const s = streamOf(id);
      if (s >= 0 && s < count) {
        // the window holds the chunk's first bytes: an H.264 picture is classified from them
        const at = p - windowAt + 8;
        const seen = window.subarray(at, Math.min(window.length, at + size));
        const kind = s === classify?.stream ? classify.of(seen, seen.length === size) : null;
        out[s]!.push({ offset: p + 8, size, key: true, walked: true, ...(kind ? { kind } : {}) });
      }
      p += 8 + size + (size & 1);
    }
  }
  return out;
}

/**
 * The chunks an index gives, and after them those of the movi data it does not cover: a
 * recording stopped before its index was finished (idx1 cut short, an OpenDML segment without
 * its ix), or idx1's first RIFF followed by AVIX segments.
 */
async function withUnindexed(
  blob: Blob,
  indexed: Chunk[][],
  movis: readonly { at: number; end: number }[],
  classify: Classifier | null,
): Promise<{ chunks: Chunk[][]; walked: boolean }> {
  let covered = 0;
  for (const list of indexed) {
    for (const c of list) covered = Math.max(covered, c.offset + c.size + (c.size & 1));
  }
  const rest = await walkChunks(blob, movis, indexed.length, covered, classify);
  const walked = rest.some((list) => list.length > 0);
  return {
    chunks: walked ? indexed.map((list, s) => [...list, ...rest[s]!]) : indexed,
    walked,
  };
}

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
    const riff = await bytesAt(blob, 0, 12);
    // a size a recorder fills in when it closes the file: 0 (or all ones) after a power cut
    const unset = (size: number, at: number): boolean =>
      size < 4 || size === 0xffffffff || at + 8 + size > blob.size;
    let unclosed = unset(u32(riff, 4), 0);
    const riffEnd = unclosed ? blob.size : 8 + u32(riff, 4);
    // the first RIFF's top-level chunks: the header list, the movi list, idx1
    let hdrl: { at: number; size: number } | null = null;
    let idx1: { at: number; size: number } | null = null;
    const movis: { at: number; end: number }[] = [];
    let moviType = 0;
    let p = 12;
    let end = Math.min(riffEnd, blob.size);
    for (;;) {
      while (p + 8 <= end) {
        const h = await bytesAt(blob, p, 12);
        if (h.length < 8) break;
        const size = u32(h, 4);
        const id = fourcc(h, 0);
        const list = id === 'LIST' && h.length >= 12 ? fourcc(h, 8) : '';
        if (list === 'hdrl') hdrl ??= { at: p + 12, size: size - 4 };
        else if (list === 'movi') {
          if (movis.length === 0) moviType = p + 8;
          if (unset(size, p)) {
            // its frames run to the end of the file (or of the RIFF)
            unclosed = true;
            movis.push({ at: p + 12, end });
            break;
          }
          movis.push({ at: p + 12, end: p + 8 + size });
        } else if (id === 'idx1') idx1 ??= { at: p + 8, size };
        p += 8 + size + (size & 1);
      }
      // OpenDML: more RIFF 'AVIX' segments follow the first, each with a movi list
      p = Math.max(p, end);
      const next = await bytesAt(blob, p, 12);
      if (next.length < 12 || fourcc(next, 0) !== 'RIFF' || fourcc(next, 8) !== 'AVIX') break;
      const size = u32(next, 4);
      if (unset(size, p)) unclosed = true;
      end = unset(size, p) ? blob.size : p + 8 + size;
      p += 12;
    }
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

    const count = Math.max(...streams.map((s) => s.number + 1));
    const indexed =
      (index === 'auto' || index === 'odml' ? await odmlChunks(blob, streams, count) : null) ??
      (index === 'auto' || index === 'idx1' ? await idx1Chunks(blob, idx1, moviType, count) : null);
    if (!indexed && index !== 'auto' && index !== 'walk') {
      throw damaged(`it has no ${index} index`);
    }
    // an index is trusted for what it covers; the movi data after it is walked
    const classify = h264Classifier(videoStream);
    const found = indexed
      ? await withUnindexed(blob, indexed, movis, classify)
      : { chunks: await walkChunks(blob, movis, count, 0, classify), walked: true };
    const chunks = found.chunks;
    const warnings: string[] = [];
    const located = new Map<'video' | number, Located>();
    const h264 = await h264Of(blob, videoStream, chunks);
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
      if (kind === 'b') throw bFramesError();
    }
    kept.push({ ...c, key: kind === 'idr' });
  }
  // pictures before the first IDR picture (a file that starts inside a group of pictures) cannot
  // be decoded: they keep their place in time as dropped frames
  const start = kept.findIndex((c) => c.key);
  for (let k = 0; k < start; k++) kept[k] = { ...kept[k]!, size: 0 };
  chunks[s.number] = kept;
  const first = kept[start];
  return aviH264(extradata, first ? await head(first, 64 * 1024) : null, inBandSets, {
    width,
    height,
  });
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
  all.forEach((chunk, frame) => {
    if (chunk.size > 0) kept.push({ chunk, frame });
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
    const next = k + 1 < n ? shown[k + 1]!.frame : Math.max(frame + 1, all.length);
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
