/** Codec strings, names and the colour tables of ISO/IEC 23091-2 (what colr/vpcC store). */

export function videoCodecName(codec: string): string {
  const fourcc = codec.slice(0, 4).toLowerCase();
  if (fourcc === 'avc1' || fourcc === 'avc3') return 'H.264';
  if (fourcc === 'hvc1' || fourcc === 'hev1') return 'HEVC';
  if (fourcc === 'vp09' || codec === 'vp9') return 'VP9';
  if (fourcc === 'vp08' || codec === 'vp8') return 'VP8';
  if (fourcc === 'av01') return 'AV1';
  // what cameras and old encoders put in MP4 and MOV, named as people know them
  if (fourcc === 'mp4v') return 'MPEG-4 Part 2 (Xvid/DivX)';
  if (fourcc === 'mp2v' || codec === 'mpeg2') return 'MPEG-2';
  if (codec === 'mpeg1') return 'MPEG-1';
  if (fourcc === 'jpeg' || fourcc === 'mjpa' || codec === 'mjpeg') return 'Motion JPEG';
  if (fourcc === 'mjpb') return 'Motion JPEG-B';
  if (fourcc === 'dvh1' || fourcc === 'dvhe') return 'Dolby Vision HEVC';
  if (codec.startsWith('V_')) return matroskaCodecName(codec);
  return codec;
}

/** A Matroska CodecID (mkv-tracks.ts matroskaVideoCodec) named as people know it. */
function matroskaCodecName(id: string): string {
  const vfw = /^V_MS\/VFW\/FOURCC\/(.{4})$/s.exec(id);
  if (vfw) {
    const fourcc = vfw[1]!.toUpperCase();
    if (['XVID', 'DIVX', 'DX50', 'FMP4', 'MP4V'].includes(fourcc))
      return 'MPEG-4 Part 2 (Xvid/DivX)';
    if (['DIV3', 'MP43'].includes(fourcc)) return 'MS MPEG-4 (DivX 3)';
    if (fourcc === 'FFV1') return 'FFV1';
    return `'${vfw[1]!.trim()}'`;
  }
  if (id.startsWith('V_MPEG4/ISO/')) return 'MPEG-4 Part 2 (Xvid/DivX)';
  if (id === 'V_MPEG4/MS/V3') return 'MS MPEG-4 (DivX 3)';
  if (id.startsWith('V_REAL/')) return 'RealVideo';
  const names: Record<string, string> = {
    V_MPEG1: 'MPEG-1',
    V_MPEG2: 'MPEG-2',
    V_THEORA: 'Theora',
    V_PRORES: 'Apple ProRes',
    V_FFV1: 'FFV1',
    V_UNCOMPRESSED: 'uncompressed',
    V_QUICKTIME: 'QuickTime',
    V_DIRAC: 'Dirac',
  };
  return names[id] ?? id;
}

export function audioCodecName(codec: string): string {
  if (codec.startsWith('mp4a.40') || codec === 'aac') return 'AAC';
  if (codec === 'mp4a.6b' || codec === 'mp4a.69' || codec === 'mp3') return 'MP3';
  if (codec === 'mp2') return 'MP2';
  if (codec === 'opus' || codec === 'Opus') return 'Opus';
  if (codec === 'vorbis') return 'Vorbis';
  if (codec === 'flac' || codec === 'fLaC') return 'FLAC';
  if (codec === 'ac-3' || codec === 'ac3') return 'AC-3';
  if (codec === 'ec-3' || codec === 'eac3') return 'E-AC-3';
  const pcm = /^pcm-[suf](8|16|24|32|64)(be)?$/.exec(codec);
  if (pcm) return `PCM (${pcm[1]}-bit)`;
  return codec;
}

/**
 * PCM layouts copied into MP4 (ISO 23003-5 'ipcm'/'fpcm'; the app's render parts are MP4).
 * Chromium plays them all back exactly (Debian 12's ffmpeg 5.1 reads only the 16-bit ones
 * right). 64-bit float is not copied: Chromium cannot decode it.
 */
const MP4_PCM = [
  'pcm-s16',
  'pcm-s16be',
  'pcm-s24',
  'pcm-s24be',
  'pcm-s32',
  'pcm-s32be',
  'pcm-f32',
  'pcm-f32be',
] as const;

/**
 * An MP4 sound description keeps the rate in 16.16 fixed point: mediabunny writes 0 there above
 * 65 535 Hz and cannot read such a part back (codecs with their own header, AAC and FLAC, carry
 * the rate there and are not affected).
 */
export const MP4_PCM_MAX_RATE = 65535;

/**
 * The audio codecs copied into an output, as mediabunny names them, and 'mp2': MPEG-1 Layer II
 * (VCDs, DVDs, DVB television), which MP4 holds as MPEG-1 audio (object type 0x6B, the one
 * mediabunny writes for MP3), and Matroska and WebM do not hold (their MP3 is Layer III).
 */
export type MuxAudioCodec =
  'aac' | 'opus' | 'mp3' | 'mp2' | 'vorbis' | 'flac' | 'ac3' | 'eac3' | (typeof MP4_PCM)[number];

/** The mediabunny codec a copied track is written as. */
export function writtenAs(codec: MuxAudioCodec): Exclude<MuxAudioCodec, 'mp2'> {
  return codec === 'mp2' ? 'mp3' : codec;
}

export function muxAudioCodec(codec: string, sampleRate = 0): MuxAudioCodec | null {
  if (codec.startsWith('pcm-')) {
    const fits = (MP4_PCM as readonly string[]).includes(codec) && sampleRate <= MP4_PCM_MAX_RATE;
    return fits ? (codec as MuxAudioCodec) : null;
  }
  switch (audioCodecName(codec)) {
    case 'AAC':
      return 'aac';
    case 'MP3':
      return 'mp3';
    case 'Opus':
      return 'opus';
    case 'Vorbis':
      return 'vorbis';
    case 'FLAC':
      return 'flac';
    // Dolby (TV recordings, disc rips): copied for the players that decode it (mediabunny writes
    // dac3/dec3 from the first frame); Chromium itself does not play it
    case 'AC-3':
      return 'ac3';
    case 'E-AC-3':
      return 'eac3';
    default:
      return null;
  }
}

// TypeScript's DOM lib lists only the SDR values; Chromium accepts the rest (bt2020, pq, hlg...).
const PRIMARIES: Record<number, string> = {
  1: 'bt709',
  5: 'bt470bg',
  6: 'smpte170m',
  9: 'bt2020',
  12: 'smpte432',
};
const TRANSFER: Record<number, string> = {
  1: 'bt709',
  6: 'smpte170m',
  8: 'linear',
  13: 'iec61966-2-1',
  16: 'pq',
  18: 'hlg',
};
const MATRIX: Record<number, string> = {
  0: 'rgb',
  1: 'bt709',
  5: 'bt470bg',
  6: 'smpte170m',
  9: 'bt2020-ncl',
};

/** Code 2 means "unspecified": leave that field out so the decoder keeps its own default. */
export function colorSpaceFromCodes(
  primaries: number,
  transfer: number,
  matrix: number,
  fullRange: boolean,
): VideoColorSpaceInit | null {
  const out: VideoColorSpaceInit = { fullRange };
  const p = PRIMARIES[primaries];
  const t = TRANSFER[transfer];
  const m = MATRIX[matrix];
  if (p) out.primaries = p as VideoColorPrimaries;
  if (t) out.transfer = t as VideoTransferCharacteristics;
  if (m) out.matrix = m as VideoMatrixCoefficients;
  return p || t || m ? out : null;
}

/** PQ/HLG or BT.2020 content: WebCodecs' HDR handling is incomplete, so the UI warns. */
export function isHdr(color: VideoColorSpaceInit | null): boolean {
  const transfer: string | null | undefined = color?.transfer;
  const primaries: string | null | undefined = color?.primaries;
  return transfer === 'pq' || transfer === 'hlg' || primaries === 'bt2020';
}

/**
 * Channel count from an AAC AudioSpecificConfig: the stsd entry of an MP4 says 2 for mono AAC
 * too (ffmpeg writes 2), so only the ASC is trusted. Returns null for escape/explicit layouts.
 */
export function aacChannels(asc: Uint8Array): number | null {
  if (asc.length < 2) return null;
  const objectType = asc[0]! >> 3;
  const freqIndex = ((asc[0]! & 0x07) << 1) | (asc[1]! >> 7);
  if (objectType === 31 || freqIndex === 15) return null;
  const config = (asc[1]! >> 3) & 0x0f;
  if (config === 0) return null;
  return config === 7 ? 8 : config;
}

/** Tracks of a file that are not copied, by kind (the video and every audio track it reads are). */
export interface LeftOutTracks {
  /** Sound tracks in a format Upframe cannot read. */
  readonly audio?: number;
  readonly subtitle: number;
  readonly video: number;
  readonly other: number;
}

/** What a reader says of the tracks the enhanced file leaves out, or null when there are none. */
export function leftOutNote(tracks: LeftOutTracks): string | null {
  const audio = tracks.audio ?? 0;
  const parts = [
    audio === 1
      ? 'an audio track in a format Upframe cannot read'
      : audio > 1
        ? `${audio} audio tracks in a format Upframe cannot read`
        : null,
    tracks.subtitle === 1
      ? 'a subtitle track'
      : tracks.subtitle > 1
        ? `${tracks.subtitle} subtitle tracks`
        : null,
    tracks.video === 1
      ? 'a second video track (another angle or a cover picture)'
      : tracks.video > 1
        ? `${tracks.video} more video tracks`
        : null,
    tracks.other === 1
      ? 'a timecode, menu or data track'
      : tracks.other > 1
        ? `${tracks.other} timecode, menu or data tracks`
        : null,
  ].filter((p) => p !== null);
  if (parts.length === 0) return null;
  const list =
    parts.length === 1 ? parts[0]! : `${parts.slice(0, -1).join(', ')} and ${parts.at(-1)!}`;
  return `Left out of the enhanced file: ${list}.`;
}

/**
 * A track's language as an output can write it: a three-letter ISO 639-2 code, else null
 * ('und' says none; a QuickTime file may store a Macintosh language number, which mp4box reads
 * as other characters).
 */
export function trackLanguage(raw: string | null | undefined): string | null {
  return raw && /^[a-z]{3}$/.test(raw) && raw !== 'und' ? raw : null;
}
