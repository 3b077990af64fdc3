/**
 * MP4/MOV/M4V reader on mp4box. mp4box parses only the index (moov): we feed it the file in small
 * slices, follow the positions it asks for (it skips over mdat), and then read each sample's bytes
 * ourselves with Blob.slice. So the file is never in memory, and reading follows the decoder's pace.
 */
import {
  createFile,
  MP4BoxBuffer,
  type ISOFile,
  type Movie,
  type Sample,
  type Track,
} from 'mp4box';
import { UpframeError } from '../shared/errors.ts';
import { formatPartOf } from '../shared/format.ts';
import { byteCodecToS16 } from './audio-to-s16.ts';
import {
  aacChannels,
  audioCodecName,
  colorSpaceFromCodes,
  leftOutNote,
  muxAudioCodec,
  videoCodecName,
} from './codecs.ts';
import { decodeColorSpace } from './decode-colour.ts';
import { fieldOrderFacts } from './h264-field-order.ts';
import { avcCAspect, avcCFieldCoded, INTERLACED_NOTE, mayBeInterlaced } from './h264-sps.ts';
import { pixelAspect } from './pixel-aspect.ts';
import { mpegFields } from './mpeg-video-decoder.ts';
import {
  pixelAspect as mpegPixelAspect,
  sequenceFacts,
  sequenceHeaderBytes,
} from './mpeg2/stream-facts.ts';
import {
  compactConstantSampleSizes,
  mpegVideoEntry,
  pcmName,
  pcmTrackTable,
  videoEntryName,
  type PcmFormat,
  type PcmSampleTable,
} from './mov-tracks.ts';
import type {
  AudioTrackInfo,
  ContainerKind,
  EncodedSample,
  Rotation,
  VideoTrackInfo,
} from './types.ts';
import { readTextTables, textTables, type TextTable } from './mp4-text.ts';
import type { SubtitleCopy, SubtitleTrackInfo, TimeWindow } from './subtitle-text.ts';
import type { MediaInput, ReadRange } from './input-types.ts';
import { soundTracks, trackNames, type SoundTracks } from './mp4-sound.ts';
import {
  configBox,
  handler,
  isSound,
  opusHead,
  readBoxPayload,
  sampleEntry,
  trak,
  type BoxLike,
  type DOpsBox,
} from './mp4-boxes.ts';
import { PacketTable, readLocated, type LocatedPackets } from './packet-table.ts';

const INDEX_SLICE = 256 * 1024;

/**
 * Where each sample's bytes are, as typed arrays: mp4box's own Sample objects (some 20 fields
 * each, with the rest of its parsed index behind them) are dropped once this is built, which is
 * most of the index's memory on a long file (a two-hour film has half a million samples).
 */
interface TrackTable extends LocatedPackets {
  readonly id: number;
}

/** Where track k's table is kept: 'video', 'audio' (the first audio track), 'audio1', ... */
type TableKey = 'video' | `audio${number | ''}`;

const audioKey = (k: number): TableKey => (k === 0 ? 'audio' : `audio${k}`);

export class Mp4Input implements MediaInput {
  readonly video: VideoTrackInfo | null;
  readonly audioTracks: readonly AudioTrackInfo[];
  /** The timed-text (tx3g) tracks, kept as SRT in MKV (mp4-text.ts). */
  readonly subtitleTracks: readonly SubtitleTrackInfo[];
  private readonly texts: readonly TextTable[];
  readonly warnings: string[] = [];
  private readonly tables = new Map<TableKey, TrackTable>();

  get audio(): AudioTrackInfo | null {
    return this.audioTracks[0] ?? null;
  }

  private constructor(
    readonly blob: Blob,
    readonly container: ContainerKind,
    file: ISOFile,
    info: Movie,
    configs: Map<number, Uint8Array<ArrayBuffer>>,
    keyFrame: Uint8Array | undefined,
    sound: SoundTracks,
  ) {
    const vt = info.videoTracks[0];
    if (vt && !mpegVideoOf(file, vt.id)) {
      this.video = this.videoTrack(file, vt, configs.get(vt.id), keyFrame);
      if (mayBeInterlaced(this.video.decoderConfig)) this.warnings.push(INTERLACED_NOTE);
    } else {
      const other = vt ?? info.otherTracks.find((t) => handler(file, t.id) === 'vide');
      this.video = other ? this.unknownVideoTrack(file, other, keyFrame) : null;
      if (this.video && mpegFields(this.video)) this.warnings.push(INTERLACED_NOTE);
    }
    this.audioTracks = sound.readable.map((t, k) =>
      sound.pcm.has(t.id)
        ? this.pcmTrack(file, t, sound.pcm.get(t.id)!, audioKey(k))
        : this.audioTrack(file, t, audioKey(k)),
    );
    this.texts = textTables(file, info);
    this.subtitleTracks = this.texts.map((t) => t.info);
    // subtitles other than timed text (TTML, WebVTT), a cover picture or a second angle, a
    // camera's timecode, sound in a format that cannot be read: not copied, and said
    const others = info.otherTracks.filter((t) => !isSound(file, t));
    const leftOut = leftOutNote({
      audio: sound.unreadable,
      subtitle: info.subtitleTracks.length - this.texts.length,
      video: Math.max(0, info.videoTracks.length - 1),
      other:
        info.metadataTracks.length + others.filter((t) => handler(file, t.id) !== 'vide').length,
    });
    if (vt && leftOut) this.warnings.push(leftOut);
    // (each track's edit list may say the same thing)
    const unique = [...new Set(this.warnings)];
    this.warnings.splice(0, this.warnings.length, ...unique);
  }

  /** Parses the index; returns null for fragmented files, which the mediabunny reader handles. */
  static async open(blob: Blob, container: ContainerKind): Promise<Mp4Input | null> {
    compactConstantSampleSizes();
    const file = createFile(false);
    // Set from mp4box callbacks; an object so TypeScript does not narrow it to its initial null.
    const state: { info: Movie | null; error: string | null } = { info: null, error: null };
    file.onReady = (movie) => {
      state.info = movie;
    };
    file.onError = (_module, message) => {
      state.error = message;
    };
    let pos = 0;
    while (state.info === null && state.error === null && pos < blob.size) {
      const ab = await blob.slice(pos, pos + INDEX_SLICE).arrayBuffer();
      let next: number;
      try {
        next = file.appendBuffer(MP4BoxBuffer.fromArrayBuffer(ab, pos));
      } catch (cause) {
        throw corrupt(`its index could not be read (${String(cause)})`, cause);
      }
      // mp4box returns where it wants to read next; after the last slice it may point back.
      pos = next > pos ? next : pos + ab.byteLength;
    }
    if (state.info === null) file.flush();
    const movie = state.info;
    if (state.error !== null) throw corrupt(`its index could not be read (${state.error})`);
    if (movie === null || !movie.hasMoov) {
      throw corrupt('it ends before its index (the moov box): it was probably cut short');
    }
    if (movie.isFragmented) return null;
    const configs = new Map<number, Uint8Array<ArrayBuffer>>();
    const vt = movie.videoTracks[0];
    const box = vt ? configBox(file, vt.id) : undefined;
    if (vt && box) configs.set(vt.id, await readBoxPayload(blob, box));
    // VP9 may say its colour only in its key frames' headers (vpcC unspecified or absent): the
    // start of the first frame holds it (decode-colour.ts).
    // Interlaced H.264 says which field comes first in its first slice header, after the SEI
    // units an encoder may put first (x264's settings take some hundred bytes).
    let keyFrame: Uint8Array | undefined;
    const avcFields =
      vt && /^avc[13]/.test(vt.codec) && avcCFieldCoded(configs.get(vt.id) ?? new Uint8Array(0));
    // MPEG-1/MPEG-2 video keeps its sequence header in its pictures: the first one's is read
    const videoId = (vt ?? movie.otherTracks.find((t) => handler(file, t.id) === 'vide'))?.id;
    const mpeg = videoId !== undefined && mpegVideoOf(file, videoId) !== null;
    const first =
      (vt && (vt.codec.startsWith('vp09') || avcFields)) || mpeg
        ? file.getTrackSamplesInfo(videoId!)[0]
        : undefined;
    if (first && first.offset + first.size <= blob.size) {
      const head = Math.min(first.size, avcFields || mpeg ? 16384 : 64);
      keyFrame = new Uint8Array(await blob.slice(first.offset, first.offset + head).arrayBuffer());
    }
    return new Mp4Input(
      blob,
      container,
      file,
      movie,
      configs,
      keyFrame,
      await soundTracks(blob, file, movie),
    );
  }

  /**
   * A video track in a codec mp4box does not know (ProRes, DV, ...): named, never decodable;
   * or MPEG-1/MPEG-2 (HDV, XDCAM, a DVD's video in MOV or MP4), which our decoder reads, its
   * sequence header taken from the first picture (`keyFrame`).
   */
  private unknownVideoTrack(file: ISOFile, track: Track, keyFrame?: Uint8Array): VideoTrackInfo {
    const type = (sampleEntry(file, track.id) as BoxLike | undefined)?.type ?? track.codec;
    const width = track.track_width;
    const height = track.track_height;
    const packets = this.table(file, track, 'video').packets;
    const mpeg = mpegVideoOf(file, track.id);
    const sequence = mpeg && keyFrame ? sequenceHeaderBytes(keyFrame) : null;
    const facts = sequence && sequenceFacts(sequence);
    const decoderConfig: VideoDecoderConfig = {
      codec: mpeg ?? type,
      codedWidth: facts?.width ?? width,
      codedHeight: facts?.height ?? height,
    };
    if (sequence) decoderConfig.description = sequence;
    const pasp = sampleEntry(file, track.id)?.['pasp'] as
      { hSpacing: number; vSpacing: number } | undefined;
    const aspect = pasp ? [pasp.hSpacing, pasp.vSpacing] : facts && mpegPixelAspect(facts);
    const named = videoEntryName(type);
    return {
      kind: 'video',
      codec: mpeg ?? type,
      // an MPEG entry named by its format (HDV, XDCAM HD), else by the codec
      codecName: mpeg && (type === 'mp4v' || named.startsWith("'")) ? videoCodecName(mpeg) : named,
      decoderConfig,
      width: facts?.width ?? width,
      height: facts?.height ?? height,
      pixelAspect: aspect ? pixelAspect(aspect[0], aspect[1]) : null,
      rotation: rotationFromMatrix(Array.from(track.matrix as ArrayLike<number>)),
      colorSpace: null,
      packets,
    };
  }

  /**
   * PCM audio, copied as it is (MP4 holds it as ISO 23003-5 PCM, which ffmpeg and Chromium
   * read); 8-bit and G.711 (μ-law, A-law), which no MP4 holds, as 16-bit PCM. A layout that is
   * not plain PCM, or that no MP4 holds (64-bit float, over 65 535 Hz), has a null muxCodec and
   * is left out with a warning, as other audio that cannot be copied.
   */
  private pcmTrack(
    file: ISOFile,
    track: Track,
    format: PcmFormat | null,
    key: TableKey,
  ): AudioTrackInfo {
    const type = (sampleEntry(file, track.id) as BoxLike | undefined)?.type ?? track.codec;
    const stbl = (trak(file, track.id) as unknown as { mdia: { minf: { stbl: PcmSampleTable } } })
      .mdia.minf.stbl;
    const { shiftTicks, offsetUs, note } = editListShift(track);
    if (note) this.warnings.push(note);
    const startUs = offsetUs - (shiftTicks / track.timescale) * 1e6;
    const read = format ? pcmTrackTable(stbl, format, startUs) : null;
    // one byte a sample (8-bit, G.711), which no output holds: read as 16-bit PCM
    const convert = format ? (byteCodecToS16(format.codec) ?? undefined) : undefined;
    if (read && convert) {
      for (let k = 0; k < read.packets.length; k++) read.packets.byteLength[k]! *= 2;
    }
    const table = this.withinFile('audio', {
      id: track.id,
      offsets: read?.offsets ?? new Float64Array(0),
      sizes: read?.sizes ?? new Uint32Array(0),
      packets: read?.packets ?? PacketTable.ofLength(0),
      convert,
    });
    this.tables.set(key, table);
    const codec = convert ? 'pcm-s16' : (format?.codec ?? type.trim());
    const channels = format?.channels ?? 2;
    const sampleRate = format?.sampleRate ?? track.timescale;
    return {
      kind: 'audio',
      codec,
      muxCodec: read ? muxAudioCodec(codec, sampleRate) : null,
      codecName: pcmName(format, type),
      ...(convert ? { keptAs: '16-bit PCM' } : {}),
      channels,
      sampleRate,
      decoderConfig: { codec, numberOfChannels: channels, sampleRate },
      packets: table.packets,
      ...trackNames(file, track),
    };
  }

  private videoTrack(
    file: ISOFile,
    track: Track,
    description: Uint8Array<ArrayBuffer> | undefined,
    keyFrame: Uint8Array | undefined,
  ): VideoTrackInfo {
    const entry = sampleEntry(file, track.id);
    const colr = entry?.['colr'] as
      | {
          colour_type: string;
          colour_primaries: number;
          transfer_characteristics: number;
          matrix_coefficients: number;
          full_range_flag: number;
        }
      | undefined;
    const vpcc = entry?.['vpcC'] as
      | {
          colourPrimaries: number;
          transferCharacteristics: number;
          matrixCoefficients: number;
          videoFullRangeFlag: number;
          version: number;
        }
      | undefined;
    let colorSpace: VideoColorSpaceInit | null = null;
    if (colr && (colr.colour_type === 'nclx' || colr.colour_type === 'nclc')) {
      colorSpace = colorSpaceFromCodes(
        colr.colour_primaries,
        colr.transfer_characteristics,
        colr.matrix_coefficients,
        colr.full_range_flag === 1,
      );
    } else if (vpcc) {
      colorSpace = colorSpaceFromCodes(
        vpcc.colourPrimaries,
        vpcc.transferCharacteristics,
        vpcc.matrixCoefficients,
        vpcc.videoFullRangeFlag === 1,
      );
    }
    const width = track.video?.width ?? track.track_width;
    const height = track.video?.height ?? track.track_height;
    const table = this.table(file, track, 'video');
    const config: VideoDecoderConfig = {
      codec: track.codec,
      codedWidth: width,
      codedHeight: height,
    };
    // avcC/hvcC are required (length-prefixed NAL units); vpcC/av1C are optional and Chromium
    // decodes from the codec string and in-band headers.
    const fourcc = track.codec.slice(0, 4);
    if (
      description &&
      (fourcc === 'avc1' ||
        fourcc === 'avc3' ||
        fourcc === 'hvc1' ||
        fourcc === 'hev1' ||
        fourcc === 'av01')
    ) {
      config.description = description;
    }
    // Untagged H.264, AV1 and VP9: decide SD/HD as players do rather than leave it to Chromium
    // (which takes BT.709 for every size); see stream-colour.ts.
    // (a draft version 0 vpcC lays its fields out differently: only the key frame is read then)
    const header = fourcc === 'vp09' && vpcc?.version !== 1 ? undefined : description;
    colorSpace = decodeColorSpace(track.codec, colorSpace, header, width, height, keyFrame);
    if (colorSpace) config.colorSpace = colorSpace;
    // the container's pasp first (as players and ffmpeg), else what an H.264 SPS says
    const pasp = entry?.['pasp'] as { hSpacing: number; vSpacing: number } | undefined;
    const aspect = pasp
      ? pixelAspect(pasp.hSpacing, pasp.vSpacing)
      : description && (fourcc === 'avc1' || fourcc === 'avc3')
        ? avcCAspect(description)
        : null;
    return {
      kind: 'video',
      codec: track.codec,
      codecName: videoCodecName(track.codec),
      decoderConfig: config,
      width,
      height,
      pixelAspect: aspect && pixelAspect(aspect[0], aspect[1]),
      rotation: rotationFromMatrix(Array.from(track.matrix as ArrayLike<number>)),
      colorSpace,
      packets: table.packets,
      ...fieldOrderFacts(track.codec, description ?? null, keyFrame),
    };
  }

  private audioTrack(file: ISOFile, track: Track, key: TableKey): AudioTrackInfo {
    const entry = sampleEntry(file, track.id);
    let channels = track.audio?.channel_count ?? 2;
    let sampleRate = track.audio?.sample_rate ?? track.timescale;
    const decoderConfig: AudioDecoderConfig = {
      codec: track.codec,
      numberOfChannels: channels,
      sampleRate,
    };
    // QuickTime sound descriptions version 1 (ffmpeg's MOV) keep esds inside a 'wave' box.
    const wave = entry?.['wave'] as Record<string, unknown> | undefined;
    const esds = (entry?.['esds'] ?? wave?.['esds']) as
      | {
          esd: {
            findDescriptor(
              tag: number,
            ): { findDescriptor(tag: number): { data?: Uint8Array } | undefined } | undefined;
          };
        }
      | undefined;
    const asc = esds?.esd.findDescriptor(4)?.findDescriptor(5)?.data;
    if (asc) {
      decoderConfig.description = new Uint8Array(asc);
      channels = aacChannels(asc) ?? channels;
      decoderConfig.numberOfChannels = channels;
    }
    const dops = entry?.['dOps'] as DOpsBox | undefined;
    if (dops) {
      decoderConfig.description = opusHead(dops);
      // Opus always decodes at 48 kHz; InputSampleRate is informational only.
      sampleRate = 48000;
      decoderConfig.sampleRate = sampleRate;
    }
    const codec = track.codec === 'Opus' ? 'opus' : track.codec;
    decoderConfig.codec = codec;
    // AAC without its AudioSpecificConfig cannot be muxed (mediabunny would take the packets for
    // ADTS and fail after the last frame): left out with a warning instead.
    const configless = audioCodecName(codec) === 'AAC' && !decoderConfig.description;
    return {
      kind: 'audio',
      codec,
      muxCodec: configless ? null : muxAudioCodec(codec),
      codecName: audioCodecName(codec),
      channels,
      sampleRate,
      decoderConfig,
      packets: this.table(file, track, key).packets,
      ...trackNames(file, track),
    };
  }

  private table(file: ISOFile, track: Track, key: TableKey): TrackTable {
    const samples = file.getTrackSamplesInfo(track.id);
    const { shiftTicks, offsetUs, note } = editListShift(track);
    if (note) this.warnings.push(note);
    const scale = 1e6 / track.timescale;
    const n = samples.length;
    const offsets = new Float64Array(n);
    const sizes = new Uint32Array(n);
    const packets = PacketTable.ofLength(n);
    for (let k = 0; k < n; k++) {
      const s: Sample = samples[k]!;
      offsets[k] = s.offset;
      sizes[k] = s.size;
      packets.set(k, {
        timestampUs: Math.round((s.cts - shiftTicks) * scale + offsetUs),
        durationUs: Math.round(s.duration * scale),
        key: s.is_sync,
        byteLength: s.size,
      });
    }
    const table = this.withinFile(key === 'video' ? 'video' : 'audio', {
      id: track.id,
      offsets,
      sizes,
      packets,
    });
    this.tables.set(key, table);
    return table;
  }

  /**
   * A file cut short (an interrupted download or copy) still has its whole index when the moov
   * comes first, so the cut is known before decoding: the table keeps the packets up to the first
   * one whose bytes are missing, the frames shown end where the first missing frame would have
   * been shown (frames decoded after it in decode order may still be needed as references), and
   * a warning says how much of the file is there. The render then covers what the file holds
   * instead of failing at the cut and leaving nothing.
   */
  private withinFile(kind: 'video' | 'audio', table: TrackTable): TrackTable {
    const { offsets, sizes, packets } = table;
    const n = offsets.length;
    let kept = 0;
    while (kept < n && offsets[kept]! + sizes[kept]! <= this.blob.size) kept++;
    if (kept === n) return table;
    let cutUs = Infinity;
    if (kind === 'video') {
      for (let k = kept; k < n; k++) cutUs = Math.min(cutUs, packets.timestampUs[k]!);
    }
    const trimmed = packets.prefix(kept, cutUs);
    if (kind === 'video') {
      let shownAll = 0;
      let endUs = 0;
      for (let k = 0; k < n; k++) {
        if (packets.timestampUs[k]! < 0) continue;
        shownAll++;
        endUs = Math.max(endUs, packets.timestampUs[k]! + packets.durationUs[k]!);
      }
      let shown = 0;
      for (let k = 0; k < kept; k++) {
        const t = trimmed.timestampUs[k]!;
        if (t >= 0 && t < cutUs) shown++;
      }
      if (shown === 0) throw corrupt('it is cut short before its first frame');
      this.warnings.push(
        `This file is cut short: it holds ${shown} of its ${shownAll} frames ` +
          `(${formatPartOf(Math.max(0, cutUs) / 1e6, endUs / 1e6)}). ` +
          'Upframe enhances what is there.',
      );
    }
    return {
      ...table,
      offsets: offsets.slice(0, kept),
      sizes: sizes.slice(0, kept),
      packets: trimmed,
    };
  }

  async *read(
    kind: 'video' | 'audio',
    range?: ReadRange,
    audioTrack = 0,
  ): AsyncGenerator<EncodedSample> {
    const table = this.tables.get(kind === 'video' ? 'video' : audioKey(audioTrack));
    if (!table) return;
    const total = table.offsets.length;
    // every sample is inside the file: withinFile trimmed the table at open
    yield* readLocated(this.blob, table, range?.from ?? 0, Math.min(range?.to ?? total, total));
  }

  readSubtitles(window: TimeWindow): Promise<SubtitleCopy[]> {
    return readTextTables(this.blob, this.texts, window);
  }

  close(): void {
    this.tables.clear();
  }
}

function corrupt(why: string, cause?: unknown): UpframeError {
  return new UpframeError('CORRUPT_INPUT', `This file looks damaged: ${why}.`, { cause });
}

/**
 * Only the first edit that maps media is honoured (what every phone and ffmpeg writes): its
 * media_time says which composition time is shown at t=0 (ffmpeg's H.264 starts at 2 frames of
 * B-frame delay, 83 333 us at 24 fps); a leading empty edit delays the whole track.
 */
export function editListShift(track: Pick<Track, 'edits' | 'movie_timescale'>): {
  shiftTicks: number;
  offsetUs: number;
  note: string | null;
} {
  const edits = track.edits ?? [];
  let offsetUs = 0;
  let note: string | null = null;
  for (let i = 0; i < edits.length; i++) {
    const e = edits[i]!;
    if (e.media_time === -1) {
      offsetUs += (e.segment_duration / track.movie_timescale) * 1e6;
      continue;
    }
    if (edits.slice(i + 1).some((x) => x.media_time !== -1)) {
      note = 'This file has a multi-part edit list; only its first part is used.';
    }
    return { shiftTicks: e.media_time, offsetUs, note };
  }
  return { shiftTicks: 0, offsetUs, note };
}

/** tkhd matrix [a b u; c d v; x y w] in 16.16: a rotation by θ clockwise has a=cos θ, b=sin θ. */
export function rotationFromMatrix(m: readonly number[]): Rotation {
  const a = m[0] ?? 65536;
  const b = m[1] ?? 0;
  const deg = (Math.round((Math.atan2(b, a) * 180) / Math.PI / 90) * 90 + 360) % 360;
  return deg as Rotation;
}

/** MPEG-1/MPEG-2 video in track `id`'s sample entry, or null. */
function mpegVideoOf(file: ISOFile, id: number): 'mpeg1' | 'mpeg2' | null {
  const entry = sampleEntry(file, id) as
    (BoxLike & { esds?: { esd?: { descs?: { oti?: number }[] } } }) | undefined;
  if (!entry) return null;
  return mpegVideoEntry(entry.type ?? '', entry.esds?.esd?.descs?.[0]?.oti);
}
