/**
 * QuickTime and ISO tracks mp4box does not know: uncompressed PCM audio (what cameras, screen
 * recorders and editors write into MOV: 'sowt', 'twos', 'in24', 'lpcm', ... and ISO 23003-5
 * 'ipcm'/'fpcm'), and video in codecs no browser decodes (ProRes, DNxHD, DV, ...), which mp4box
 * lists only as "metadata" tracks.
 *
 * PCM is stored as one "sample" per audio frame: 48 000 per second. mp4box expands a constant
 * sample size into one array entry and one object per sample, so ten minutes of stereo camera
 * audio took it over a minute and about 5 GB (measured in Node): a camera file would crash the
 * tab while opening. compactConstantSampleSizes() keeps a PCM track's table as (size, count), and
 * pcmPackets() reads the track by chunks instead, cut into packets of at most PCM_PACKET_FRAMES.
 */
import { BoxParser, ISOFile } from 'mp4box';
import { MP4_PCM_MAX_RATE, type MuxAudioCodec } from './codecs.ts';
import { PacketTable } from './packet-table.ts';

/** Frames per copied PCM packet: the packet rate of AAC, so the muxers hold no more than for AAC. */
export const PCM_PACKET_FRAMES = 1024;

interface StszLike {
  parseFullHeader(stream: unknown): void;
  version: number;
  sample_size: number;
  sample_count: number;
  sample_sizes: number[];
}
interface StreamLike {
  readUint32(): number;
}

let compacted = false;

interface TrakLike {
  mdia?: { minf?: { stbl?: { stsz?: StszLike; stsd?: { entries?: { type?: string }[] } } } };
}

/**
 * From now on, mp4box keeps a constant-size stsz as (sample_size, sample_count) with an empty
 * sample_sizes until it builds a track's sample list; then it expands it as before, except for a
 * PCM track, which gets no per-sample objects (an empty sample list) and which pcmPackets() reads.
 * Compressed tracks may have constant sizes too (flat video, silent audio): they are unchanged.
 */
export function compactConstantSampleSizes(): void {
  if (compacted) return;
  compacted = true;
  const registry = (BoxParser as unknown as { box: Record<string, { prototype: unknown }> }).box;
  const proto = registry['stsz']!.prototype as { parse(this: StszLike, s: StreamLike): void };
  proto.parse = function (this: StszLike, stream: StreamLike): void {
    this.parseFullHeader(stream);
    this.sample_sizes = [];
    if (this.version !== 0) return;
    this.sample_size = stream.readUint32();
    this.sample_count = stream.readUint32();
    if (this.sample_size !== 0) return;
    for (let i = 0; i < this.sample_count; i++) this.sample_sizes.push(stream.readUint32());
  };
  const iso = ISOFile.prototype as unknown as {
    buildTrakSampleLists: (this: unknown, trak: TrakLike) => void;
  };
  const build = iso.buildTrakSampleLists;
  iso.buildTrakSampleLists = function (this: unknown, trak: TrakLike): void {
    const stbl = trak.mdia?.minf?.stbl;
    const stsz = stbl?.stsz;
    const type = stbl?.stsd?.entries?.[0]?.type ?? '';
    if (stsz && stsz.sample_size !== 0 && stsz.sample_sizes.length === 0 && !isPcmEntry(type)) {
      stsz.sample_sizes = new Array<number>(stsz.sample_count).fill(stsz.sample_size);
    }
    build.call(this, trak);
  };
}

/** Person-facing names of video sample entries no browser decodes. */
const VIDEO_NAMES: Record<string, string> = {
  apch: 'Apple ProRes 422 HQ',
  apcn: 'Apple ProRes 422',
  apcs: 'Apple ProRes 422 LT',
  apco: 'Apple ProRes 422 Proxy',
  ap4h: 'Apple ProRes 4444',
  ap4x: 'Apple ProRes 4444 XQ',
  AVdn: 'Avid DNxHD',
  AVdh: 'Avid DNxHR',
  dvc: 'DV',
  'dvc ': 'DV',
  dvcp: 'DV',
  dvpp: 'DVCPRO',
  dv5n: 'DVCPRO50',
  dv5p: 'DVCPRO50',
  dvh5: 'DVCPRO HD',
  dvh6: 'DVCPRO HD',
  dvhq: 'DVCPRO HD',
  dvhp: 'DVCPRO HD',
  jpeg: 'Motion JPEG',
  mjpa: 'Motion JPEG',
  mjpb: 'Motion JPEG-B',
  mp4v: 'MPEG-4 Part 2',
  xvid: 'MPEG-4 Part 2',
  mp2v: 'MPEG-2',
  xdv7: 'XDCAM HD',
  xdvc: 'XDCAM HD',
  xd54: 'XDCAM HD422',
  xd55: 'XDCAM HD422',
  xd5e: 'XDCAM HD422',
  hdv2: 'HDV',
  hdv3: 'HDV',
  cvid: 'Cinepak',
  'rle ': 'Apple Animation',
  png: 'PNG',
  'png ': 'PNG',
  s263: 'H.263',
  h263: 'H.263',
  'raw ': 'uncompressed',
  '2vuy': 'uncompressed',
  yuv2: 'uncompressed',
  v210: 'uncompressed',
  v410: 'uncompressed',
  r210: 'uncompressed',
  CFHD: 'GoPro CineForm',
  Hap1: 'Hap',
  Hap5: 'Hap',
  HapY: 'Hap',
};

/** What a person would call video stored with this sample entry type. */
/**
 * MPEG-1 and MPEG-2 video sample entries (QuickTime's and camera makers' FourCCs; MP4 keeps
 * MPEG-2 as 'mp4v' with an object type, `mpegObjectType`): our decoder reads them (4:2:0; the
 * 4:2:2 ones, XDCAM HD422 and IMX, are refused by what their sequence header says).
 */
const MPEG_VIDEO_ENTRIES: Record<string, 'mpeg1' | 'mpeg2'> = {
  m1v1: 'mpeg1',
  'm1v ': 'mpeg1',
  mpg1: 'mpeg1',
  m2v1: 'mpeg2',
  mp2v: 'mpeg2',
  mpg2: 'mpeg2',
  AVmp: 'mpeg2',
  ...Object.fromEntries(
    [
      ...'123456789a'.split('').map((c) => `hdv${c}`),
      ...'123456789abcdef'.split('').flatMap((c) => [`xdv${c}`, `xd5${c}`]),
      ...['mx3p', 'mx4p', 'mx5p', 'mx3n', 'mx4n', 'mx5n'],
    ].map((t) => [t, 'mpeg2' as const]),
  ),
};

/** The MPEG video a sample entry holds (by its type, or an 'mp4v' entry's object type). */
export function mpegVideoEntry(type: string, objectType?: number): 'mpeg1' | 'mpeg2' | null {
  if (type === 'mp4v' && objectType !== undefined) {
    // ISO/IEC 14496-1 object types: 0x60-0x65 MPEG-2 video profiles, 0x6A MPEG-1 video
    if (objectType >= 0x60 && objectType <= 0x65) return 'mpeg2';
    return objectType === 0x6a ? 'mpeg1' : null;
  }
  return MPEG_VIDEO_ENTRIES[type] ?? null;
}

export function videoEntryName(type: string): string {
  return VIDEO_NAMES[type] ?? VIDEO_NAMES[type.trim()] ?? `'${type.trim()}'`;
}

export interface PcmFormat {
  /** mediabunny's PCM codec id (also the WebCodecs name). */
  readonly codec: Extract<MuxAudioCodec, `pcm-${string}`> | 'pcm-u8' | 'pcm-s8' | 'ulaw' | 'alaw';
  readonly codecName: string;
  readonly channels: number;
  readonly sampleRate: number;
  readonly bytesPerFrame: number;
  /** Audio frames per stsc "sample" (1 for every PCM layout but QuickTime v2 with several). */
  readonly framesPerSample: number;
}

const PCM_TYPES = new Set([
  'sowt',
  'twos',
  'in24',
  'in32',
  'fl32',
  'fl64',
  'lpcm',
  'ipcm',
  'fpcm',
  'raw ',
  'NONE',
  'ulaw',
  'alaw',
]);

export function isPcmEntry(type: string): boolean {
  return PCM_TYPES.has(type);
}

/** Child boxes from `at` to the end of `bytes` (a box payload), one level down into 'wave'. */
function childBoxes(bytes: Uint8Array, at: number): Map<string, Uint8Array> {
  const found = new Map<string, Uint8Array>();
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const walk = (from: number, to: number): void => {
    let p = from;
    while (p + 8 <= to) {
      const size = view.getUint32(p);
      const type = String.fromCharCode(...bytes.subarray(p + 4, p + 8));
      if (size < 8 || p + size > to) return;
      if (!found.has(type)) found.set(type, bytes.subarray(p + 8, p + size));
      if (type === 'wave') walk(p + 8, p + size);
      p += size;
    }
  };
  walk(at, bytes.length);
  return found;
}

function pcmCodec(
  float: boolean,
  bits: number,
  littleEndian: boolean,
  signed = true,
): PcmFormat['codec'] | null {
  const le = littleEndian ? '' : 'be';
  if (float) return bits === 32 || bits === 64 ? (`pcm-f${bits}${le}` as PcmFormat['codec']) : null;
  if (bits === 8) return signed ? 'pcm-s8' : 'pcm-u8';
  if (bits === 16 || bits === 24 || bits === 32) return `pcm-s${bits}${le}` as PcmFormat['codec'];
  return null;
}

/**
 * Reads a PCM sound sample entry (the whole box, header included): QuickTime sound descriptions
 * version 0, 1 and 2, and ISO 23003-5's pcmC. Null when the layout is not plain PCM (e.g. a
 * compressed QuickTime codec under a PCM-looking type) or makes no sense.
 */
export function parsePcmEntry(entry: Uint8Array): PcmFormat | null {
  if (entry.length < 36) return null;
  const view = new DataView(entry.buffer, entry.byteOffset, entry.byteLength);
  const type = String.fromCharCode(...entry.subarray(4, 8));
  const version = view.getUint16(16);
  let channels = view.getUint16(24);
  let bits = view.getUint16(26);
  let sampleRate = view.getUint32(32) / 65536;
  let framesPerSample = 1;
  let childrenAt = 36;
  let lpcmFlags: number | null = null;
  if (version === 1) {
    if (entry.length < 52) return null;
    childrenAt = 52;
  } else if (version === 2) {
    if (entry.length < 72) return null;
    sampleRate = view.getFloat64(40);
    channels = view.getUint32(48);
    bits = view.getUint32(56);
    lpcmFlags = view.getUint32(60);
    const bytesPerPacket = view.getUint32(64);
    framesPerSample = view.getUint32(68) || 1;
    childrenAt = 72;
    if (type === 'lpcm' && bytesPerPacket !== (channels * bits * framesPerSample) / 8) return null;
  }
  const children = childBoxes(entry, childrenAt);
  // 'enda' (in 'wave' for version 1) says little-endian for in24/in32/fl32/fl64
  const enda = children.get('enda');
  const endaLittle = enda !== undefined && enda.length >= 2 && (enda[0]! | enda[1]!) !== 0;
  let codec: PcmFormat['codec'] | null;
  switch (type) {
    case 'sowt':
      codec = pcmCodec(false, bits, true);
      break;
    case 'twos':
      codec = pcmCodec(false, bits, false);
      break;
    case 'in24':
      bits = 24;
      codec = pcmCodec(false, 24, endaLittle);
      break;
    case 'in32':
      bits = 32;
      codec = pcmCodec(false, 32, endaLittle);
      break;
    case 'fl32':
      bits = 32;
      codec = pcmCodec(true, 32, endaLittle);
      break;
    case 'fl64':
      bits = 64;
      codec = pcmCodec(true, 64, endaLittle);
      break;
    case 'raw ':
    case 'NONE':
      bits = 8;
      codec = 'pcm-u8';
      break;
    case 'ulaw':
    case 'alaw':
      bits = 8;
      codec = type;
      break;
    case 'lpcm': {
      if (lpcmFlags === null) return null;
      // kAudioFormatFlagIsFloat 1, IsBigEndian 2, IsSignedInteger 4
      const float = (lpcmFlags & 1) !== 0;
      codec = pcmCodec(float, bits, (lpcmFlags & 2) === 0, float || (lpcmFlags & 4) !== 0);
      break;
    }
    case 'ipcm':
    case 'fpcm': {
      const pcmC = children.get('pcmC');
      if (!pcmC || pcmC.length < 6) return null;
      bits = pcmC[5]!;
      codec = pcmCodec(type === 'fpcm', bits, (pcmC[4]! & 1) === 1);
      break;
    }
    default:
      return null;
  }
  if (codec === null || channels < 1 || channels > 64 || !(sampleRate >= 1000)) return null;
  if (sampleRate > 768000) return null;
  return {
    codec,
    codecName: type === 'ulaw' ? 'μ-law' : type === 'alaw' ? 'A-law' : `PCM (${bits}-bit)`,
    channels,
    sampleRate: Math.round(sampleRate),
    bytesPerFrame: (channels * bits) / 8,
    framesPerSample,
  };
}

export interface PcmChunks {
  /** stsc: 1-based first chunk of each run, and samples per chunk in that run. */
  readonly firstChunk: readonly number[];
  readonly samplesPerChunk: readonly number[];
  /** stco/co64 */
  readonly chunkOffsets: readonly number[];
  /** stsz sample_count: the track's samples (audio frames times framesPerSample). */
  readonly sampleCount: number;
}

export interface PcmPackets {
  readonly offsets: Float64Array;
  readonly sizes: Uint32Array;
  /** Frame index of each packet's first frame, from the track's start. */
  readonly firstFrame: Float64Array;
  readonly frames: Uint32Array;
}

/**
 * The track's bytes as packets of whole frames, in file order: each chunk is cut into pieces of
 * at most `maxFrames` frames. Stops at the sample count (the last chunk may say more).
 */
export function pcmPackets(
  chunks: PcmChunks,
  format: Pick<PcmFormat, 'bytesPerFrame' | 'framesPerSample'>,
  maxFrames = PCM_PACKET_FRAMES,
): PcmPackets {
  const { firstChunk, samplesPerChunk, chunkOffsets } = chunks;
  let left = chunks.sampleCount * format.framesPerSample;
  let count = 0;
  const perChunk: number[] = [];
  let run = 0;
  for (let c = 1; c <= chunkOffsets.length && left > 0; c++) {
    while (run + 1 < firstChunk.length && firstChunk[run + 1]! <= c) run++;
    const n = Math.min(left, (samplesPerChunk[run] ?? 0) * format.framesPerSample);
    perChunk.push(n);
    left -= n;
    count += Math.ceil(n / maxFrames);
  }
  const offsets = new Float64Array(count);
  const sizes = new Uint32Array(count);
  const firstFrame = new Float64Array(count);
  const frames = new Uint32Array(count);
  let k = 0;
  let frame = 0;
  for (let c = 0; c < perChunk.length; c++) {
    const n = perChunk[c]!;
    for (let done = 0; done < n; done += maxFrames) {
      const m = Math.min(maxFrames, n - done);
      offsets[k] = chunkOffsets[c]! + done * format.bytesPerFrame;
      sizes[k] = m * format.bytesPerFrame;
      firstFrame[k] = frame + done;
      frames[k] = m;
      k++;
    }
    frame += n;
  }
  return { offsets, sizes, firstFrame, frames };
}

/** The parts of mp4box's parsed sample table box a PCM track is read from. */
export interface PcmSampleTable {
  readonly stsc?: { first_chunk: number[]; samples_per_chunk: number[] };
  readonly stco?: { chunk_offsets: number[] };
  readonly co64?: { chunk_offsets: number[] };
  readonly stsz?: { sample_count: number };
}

/**
 * A PCM track's packets (pcmPackets) with their times: `startUs` plus the frames before each
 * over the rate. Null when the sample table lacks its chunk boxes.
 */
export function pcmTrackTable(
  stbl: PcmSampleTable,
  format: PcmFormat,
  startUs: number,
): { offsets: Float64Array; sizes: Uint32Array; packets: PacketTable } | null {
  const stco = stbl.stco ?? stbl.co64;
  if (!stbl.stsc || !stco) return null;
  const chunks = pcmPackets(
    {
      firstChunk: stbl.stsc.first_chunk,
      samplesPerChunk: stbl.stsc.samples_per_chunk,
      chunkOffsets: stco.chunk_offsets,
      sampleCount: stbl.stsz?.sample_count ?? 0,
    },
    format,
  );
  const n = chunks.offsets.length;
  const packets = PacketTable.ofLength(n);
  const rate = format.sampleRate;
  for (let k = 0; k < n; k++) {
    packets.set(k, {
      timestampUs: Math.round((chunks.firstFrame[k]! / rate) * 1e6 + startUs),
      durationUs: Math.round((chunks.frames[k]! / rate) * 1e6),
      key: true,
      byteLength: chunks.sizes[k]!,
    });
  }
  return { offsets: chunks.offsets, sizes: chunks.sizes, packets };
}

/** What the summary calls a PCM track; the rate is named when it is why the track is left out. */
export function pcmName(format: PcmFormat | null, type: string): string {
  if (!format) return `PCM ('${type.trim()}')`;
  return format.sampleRate > MP4_PCM_MAX_RATE
    ? `${format.codecName.replace(/\)$/, '')}, ${format.sampleRate / 1000} kHz)`
    : format.codecName;
}
