/**
 * WebM/MKV, MPEG-TS (and fragmented MP4) reader on mediabunny, behind the same MediaInput
 * interface as the mp4box reader. mediabunny's BlobSource reads the file lazily in slices.
 */
import {
  ALL_FORMATS,
  BlobSource,
  EncodedPacketSink,
  Input,
  type EncodedPacket,
  type InputAudioTrack,
  type InputTrack,
  type InputVideoTrack,
} from 'mediabunny';
import { UpframeError } from '../shared/errors.ts';
import { formatPartOf } from '../shared/format.ts';
import {
  audioCodecName,
  leftOutNote,
  muxAudioCodec,
  trackLanguage,
  videoCodecName,
} from './codecs.ts';
import {
  leftOutOfMatroska,
  matroskaHead,
  matroskaCodecPrivate,
  matroskaVideoCodec,
  type MatroskaHead,
} from './mkv-tracks.ts';
import { readMatroskaSubtitles, textSubtitleTracks } from './mkv-subtitles.ts';
import {
  windowCues,
  type SubtitleCopy,
  type SubtitleTrackInfo,
  type TimeWindow,
} from './subtitle-text.ts';
import { fieldOrderFacts } from './h264-field-order.ts';
import {
  annexBSps,
  avcCAspect,
  avcCFieldCoded,
  INTERLACED_NOTE,
  mayBeInterlaced,
} from './h264-sps.ts';
import { pixelAspect, pixelAspectOfShownSize } from './pixel-aspect.ts';
import { decodeColorSpace } from './decode-colour.ts';
import { salvageCutCluster } from './mkv-salvage.ts';
import { tsStreams } from './ts-psi.ts';
import { isMpegVideo, mpegFields } from './mpeg-video-decoder.ts';
import { sequenceHeaderBytes } from './mpeg2/stream-facts.ts';
import type { MediaInput, ReadRange } from './input-types.ts';
import type { PacketTable } from './packet-table.ts';
import { PacketTableBuilder } from './packet-table.ts';
import type { AudioTrackInfo, ContainerKind, EncodedSample, VideoTrackInfo } from './types.ts';

export class MkvInput implements MediaInput {
  readonly warnings: string[] = [];

  private constructor(
    readonly blob: Blob,
    readonly container: ContainerKind,
    private readonly input: Input,
    private readonly tracks: {
      video: InputVideoTrack | null;
      audio: readonly InputAudioTrack[];
    },
    readonly video: VideoTrackInfo | null,
    readonly audioTracks: readonly AudioTrackInfo[],
    /** Subtracted from the file's timestamps (a transport stream's clock does not start at 0). */
    private readonly shiftUs = 0,
    /** A Matroska file's head, when it has text subtitles to read. */
    private readonly head: MatroskaHead | null = null,
    readonly subtitleTracks: readonly SubtitleTrackInfo[] = [],
  ) {}

  get audio(): AudioTrackInfo | null {
    return this.audioTracks[0] ?? null;
  }

  static async open(blob: Blob, container: ContainerKind): Promise<MkvInput> {
    // A file cut inside a cluster is read through a view that closes that cluster after its
    // last whole block (mediabunny would drop the cluster whole).
    const source =
      container === 'webm' || container === 'mkv'
        ? ((await salvageCutCluster(blob)) ?? blob)
        : blob;
    const input = new Input({ source: new BlobSource(source), formats: ALL_FORMATS });
    try {
      if (!(await input.canRead())) {
        throw new UpframeError(
          'CORRUPT_INPUT',
          'This file looks damaged: its header could not be read.',
        );
      }
      // a fragmented MP4 (the MP4 reader hands those here) may list samples a cut left out
      const fragments = container === 'mp4' || container === 'mov';
      const vt = await input.getPrimaryVideoTrack();
      const at = await input.getPrimaryAudioTrack();
      const {
        info: known,
        fields,
        cut,
      } = vt ? await videoInfo(vt, fragments) : { info: null, fields: false, cut: null };
      // the one a player picks first, then the others in file order
      const ats = at ? [at, ...(await input.getAudioTracks()).filter((t) => t.id !== at.id)] : [];
      // a transport stream's languages are in its program table, which mediabunny does not read
      const psi = container === 'mpegts' && ats.length > 0 ? await tsStreams(blob) : [];
      const audios: AudioTrackInfo[] = [];
      for (const t of ats) {
        const info = await audioInfo(t, fragments);
        const language = info.language ?? psi.find((s) => s.pid === t.id)?.language ?? null;
        audios.push({ ...info, language: trackLanguage(language) });
      }
      const audio = audios[0] ?? null;
      const shiftUs = container === 'mpegts' ? startAtZero(known, audios) : 0;
      const tracks = { video: vt, audio: ats };
      // subtitles and the like: mediabunny does not list them, so they are read here
      const head =
        vt && (container === 'webm' || container === 'mkv') ? await matroskaHead(blob) : null;
      const subtitles = head ? textSubtitleTracks(head.tracks) : [];
      const video = known && head ? await namedVideo(known, head, vt!) : known;
      const opened = new MkvInput(
        source,
        container,
        input,
        tracks,
        video,
        audios,
        shiftUs,
        subtitles.length > 0 ? head : null,
        subtitles,
      );
      if (container === 'mpegts' && video && !audio) {
        // mediabunny leaves out audio it cannot read (LPCM, DTS, AAC in LATM): say so
        const lost = (await tsStreams(blob)).find((s) => s.kind === 'audio');
        if (lost) {
          opened.warnings.push(
            `This file's ${lost.name} audio cannot be read: the enhanced video will have no sound.`,
          );
        }
      }
      if (head) {
        const types = head.tracks.map((t) => t.type);
        const leftOut = leftOutNote(leftOutOfMatroska(types, subtitles.length));
        if (leftOut) opened.warnings.push(leftOut);
      }
      const declared = await input.getDurationFromMetadata().catch(() => null);
      if (cut && cut.shown === 0) {
        throw new UpframeError('CORRUPT_INPUT', 'This file is cut short before its first frame.');
      }
      const note = cut
        ? `This file is cut short: it holds ${cut.shown} of its ${cut.shownAll} frames ` +
          `(${formatPartOf(Math.max(0, cut.cutUs) / 1e6, cut.endUs / 1e6)}). ` +
          'Upframe enhances what is there.'
        : cutShortNote(declared, video, audio);
      if (note) opened.warnings.push(note);
      if (video && (fields || mayBeInterlaced(video.decoderConfig) || mpegFields(video))) {
        opened.warnings.push(INTERLACED_NOTE);
      }
      return opened;
    } catch (err) {
      input.dispose();
      if (err instanceof UpframeError) throw err;
      throw new UpframeError(
        'CORRUPT_INPUT',
        `This file looks damaged: ${err instanceof Error ? err.message : String(err)}.`,
        { cause: err },
      );
    }
  }

  async *read(
    kind: 'video' | 'audio',
    range?: ReadRange,
    audioTrack = 0,
  ): AsyncGenerator<EncodedSample> {
    const track = kind === 'video' ? this.tracks.video : this.tracks.audio[audioTrack];
    const info = kind === 'video' ? this.video : this.audioTracks[audioTrack];
    if (!track || !info) return;
    const sink = new EncodedPacketSink(track);
    const from = range?.from ?? 0;
    const to = Math.min(range?.to ?? info.packets.length, info.packets.length);
    if (from >= to) return;
    let start: EncodedPacket | null;
    if (from === 0) {
      start = await sink.getFirstPacket();
    } else {
      // (half a microsecond on: the table rounds to whole microseconds, and a seek to just
      // before a packet's own time gives the packet before it, which shifted every index)
      start = await sink.getKeyPacket((info.packets.timestampUs[from]! + this.shiftUs + 0.5) / 1e6);
    }
    if (!start) return;
    let index = from;
    for await (const packet of sink.packets(start)) {
      if (index >= to) break;
      yield {
        index,
        data: packet.data.slice(),
        timestampUs: Math.round(packet.timestamp * 1e6) - this.shiftUs,
        durationUs: Math.round(packet.duration * 1e6),
        key: packet.type === 'key',
        byteLength: packet.byteLength,
      };
      index++;
    }
    if (index < to) {
      const at = info.packets.at(index);
      throw new UpframeError(
        'CORRUPT_INPUT',
        `The file ends early: its ${kind} stops at packet ${index + 1} of ${info.packets.length} ` +
          `(${(at.timestampUs / 1e6).toFixed(2)} s).`,
      );
    }
  }

  async readSubtitles(window: TimeWindow): Promise<SubtitleCopy[]> {
    if (!this.head || this.subtitleTracks.length === 0) return [];
    const tracks = this.subtitleTracks;
    const cues = await readMatroskaSubtitles(
      this.blob,
      this.head,
      tracks,
      window.fromUs,
      window.toUs,
    );
    return tracks
      .map((info, k) => ({
        info,
        cues: windowCues(info.kind, cues[k]!, window, info.alignments),
      }))
      .filter((copy) => copy.cues.length > 0);
  }

  close(): void {
    this.input.dispose();
  }
}

/**
 * A WebM/MKV cut short (an interrupted download or copy) has no index to tell where its bytes
 * end, but its header still declares the whole duration; mediabunny reads the clusters that are
 * there, and the whole blocks of a cut last one through `salvageCutCluster`. When the packets
 * end well before the declared duration, the render covers what the file holds and this note
 * says so. A live recording declares no duration and gets no note.
 */
export function cutShortNote(
  declaredSeconds: number | null,
  video: VideoTrackInfo | null,
  audio: AudioTrackInfo | null,
): string | null {
  if (!video || declaredSeconds === null || !(declaredSeconds > 0)) return null;
  let endUs = 0;
  for (const table of [video.packets, audio?.packets]) {
    if (!table) continue;
    for (let k = 0; k < table.length; k++) {
      endUs = Math.max(endUs, table.timestampUs[k]! + table.durationUs[k]!);
    }
  }
  let frames = 0;
  for (let k = 0; k < video.packets.length; k++) if (video.packets.timestampUs[k]! >= 0) frames++;
  // Muxers round the declared duration or count a last frame differently: a missing part is
  // more than a fifth of a second and more than three frames.
  const frameUs = frames > 1 ? endUs / frames : 0;
  if (declaredSeconds * 1e6 - endUs <= Math.max(200_000, 3 * frameUs)) return null;
  return (
    `This file is cut short: it holds ${frames} frames ` +
    `(${formatPartOf(endUs / 1e6, declaredSeconds)}). ` +
    'Upframe enhances what is there.'
  );
}

/**
 * A transport stream's timestamps count from wherever the broadcaster's or camera's clock stood
 * (1.4 s from ffmpeg, hours into a TV channel's day): players show it from its first packet, and
 * so does the output. Shifts both tables so the earliest packet is at 0; returns the shift.
 */
function startAtZero(video: VideoTrackInfo | null, audio: readonly AudioTrackInfo[]): number {
  const tables = [video?.packets, ...audio.map((a) => a.packets)].filter((t) => t !== undefined);
  let first = Infinity;
  for (const table of tables)
    for (let k = 0; k < table.length; k++) first = Math.min(first, table.timestampUs[k]!);
  if (!(first > 0) || !Number.isFinite(first)) return 0;
  for (const table of tables) for (let k = 0; k < table.length; k++) table.timestampUs[k]! -= first;
  return first;
}

/** Frames a file's index lists against those whose bytes it holds (a cut left the rest out). */
interface IndexCut {
  readonly shown: number;
  readonly shownAll: number;
  readonly cutUs: number;
  readonly endUs: number;
}

/**
 * One metadata-only pass over the track: timestamps and sizes, no payloads kept. A fragmented
 * MP4 cut short (a recording that crashed, a download that stopped) lists every sample of its
 * last fragment while the bytes of some are missing: the table ends at the first packet whose
 * bytes are not there (found by halving, reading one packet each time), and `cut` says so.
 */
async function packetTable(
  track: InputTrack,
  fragments: boolean,
): Promise<{ packets: PacketTable; cut: IndexCut | null }> {
  const sink = new EncodedPacketSink(track);
  const out = new PacketTableBuilder();
  const first = await sink.getFirstPacket({ metadataOnly: true });
  if (!first) return { packets: out.build(), cut: null };
  for await (const p of sink.packets(first, undefined, { metadataOnly: true })) {
    out.push({
      timestampUs: Math.round(p.timestamp * 1e6),
      durationUs: Math.round(p.duration * 1e6),
      key: p.type === 'key',
      byteLength: p.byteLength,
    });
  }
  const all = out.build();
  const n = all.length;
  const there = async (k: number): Promise<boolean> =>
    (await sink.getPacket(all.timestampUs[k]! / 1e6).catch(() => null)) !== null;
  if (!fragments || n === 0 || (await there(n - 1))) return { packets: all, cut: null };
  // packets 0..lo-1 are there, hi.. are not
  let lo = 0;
  let hi = n - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (await there(mid)) lo = mid + 1;
    else hi = mid;
  }
  let cutUs = Infinity;
  for (let k = lo; k < n; k++) cutUs = Math.min(cutUs, all.timestampUs[k]!);
  const packets = all.prefix(lo, track.type === 'video' ? cutUs : Infinity);
  let shownAll = 0;
  let shown = 0;
  let endUs = 0;
  for (let k = 0; k < n; k++) {
    const t = all.timestampUs[k]!;
    if (t < 0) continue;
    shownAll++;
    if (k < lo && t < cutUs) shown++;
    endUs = Math.max(endUs, t + all.durationUs[k]!);
  }
  return { packets, cut: { shown, shownAll, cutUs, endUs } };
}

function bytesOf(src: AllowSharedBufferSource): Uint8Array {
  return ArrayBuffer.isView(src)
    ? new Uint8Array(src.buffer, src.byteOffset, src.byteLength)
    : new Uint8Array(src);
}

/** A video track mediabunny does not know, named (and for Motion JPEG decoded) by its CodecID. */
async function namedVideo(
  info: VideoTrackInfo,
  head: MatroskaHead,
  track: InputVideoTrack,
): Promise<VideoTrackInfo> {
  if (info.codec !== 'unknown') return info;
  const id = track.id;
  const codec = matroskaVideoCodec(head.tracks, id);
  if (!codec) return info;
  const decoderConfig: VideoDecoderConfig = {
    codec,
    codedWidth: info.width,
    codedHeight: info.height,
  };
  if (isMpegVideo(codec)) {
    // MPEG video's CodecPrivate is its first sequence header; ffmpeg leaves it out, and the
    // first picture carries it
    const first = await new EncodedPacketSink(track).getFirstPacket().catch(() => null);
    const sequence =
      matroskaCodecPrivate(head.tracks, id) ?? (first && sequenceHeaderBytes(first.data));
    if (sequence) decoderConfig.description = sequence;
  }
  return { ...info, codec, codecName: videoCodecName(codec), decoderConfig };
}

/**
 * The video track's facts; `fields` when its H.264 comes as Annex B (a transport stream: no
 * avcC record) and its SPS allows field coding (with an avcC, `mayBeInterlaced` reads that).
 */
async function videoInfo(
  track: InputVideoTrack,
  fragments: boolean,
): Promise<{ info: VideoTrackInfo; fields: boolean; cut: IndexCut | null }> {
  const config = await track.getDecoderConfig();
  const table = await packetTable(track, fragments);
  const codec = (await track.getCodecParameterString()) ?? (await track.getCodec()) ?? 'unknown';
  const color = await track.getColorSpace();
  const hasColor = color.primaries != null || color.transfer != null || color.matrix != null;
  let width = await track.getCodedWidth();
  let height = await track.getCodedHeight();
  // Annex B H.264: mediabunny 1.61 sizes it from the SPS without frame_mbs_only_flag, so
  // interlaced video (1080i camcorders, SD television) came out half its height. The SPS
  // says the size, the pixel aspect and whether there are fields.
  // Interlaced H.264 also says which field comes first in its first slice header.
  const avcC = /^avc[13]/.test(codec) && config?.description ? bytesOf(config.description) : null;
  const firstAvc =
    /^avc[13]/.test(codec) && (!avcC || avcCFieldCoded(avcC))
      ? await new EncodedPacketSink(track).getFirstPacket().catch(() => null)
      : null;
  const annexB = firstAvc && !avcC ? annexBSps(firstAvc.data) : null;
  if (annexB && annexB.width > 0 && annexB.height > 0) {
    [width, height] = [annexB.width, annexB.height];
    if (config) {
      [config.codedWidth, config.codedHeight] = [width, height];
      delete config.displayAspectWidth;
      delete config.displayAspectHeight;
    }
  }
  let colorSpace: VideoColorSpaceInit | null = hasColor ? color : null;
  if (config) {
    let description = config.description ? bytesOf(config.description) : undefined;
    if (!description && codec.startsWith('av01')) {
      // No CodecPrivate: the first key frame starts with the sequence header. Wrapped as an
      // av1C record (4 header bytes, then OBUs) for the colour reader only.
      // A file too damaged to give it up fails later, in the decoder, with its own error.
      const first = await new EncodedPacketSink(track).getFirstPacket().catch(() => null);
      if (first) {
        description = new Uint8Array(4 + first.data.length);
        description.set([0x81, 0, 0, 0]);
        description.set(first.data, 4);
      }
    }
    let keyFrame: Uint8Array | undefined;
    if (codec.startsWith('vp09')) {
      // Matroska keeps no vpcC (its CodecPrivate for VP9 is a feature list, not read here; a
      // fragmented MP4's vpcC is not handed on by mediabunny): the colour is in the first key
      // frame's header.
      description = undefined;
      const first = await new EncodedPacketSink(track).getFirstPacket().catch(() => null);
      keyFrame = first?.data;
    }
    colorSpace = decodeColorSpace(codec, colorSpace, description, width, height, keyFrame);
    if (colorSpace) config.colorSpace = colorSpace;
  }
  // the container's display size (Matroska DisplayWidth/Height, MP4 pasp) first, else the SPS
  const squareWidth = await track.getSquarePixelWidth();
  const squareHeight = await track.getSquarePixelHeight();
  let aspect = annexB
    ? annexB.sar && pixelAspect(annexB.sar[0], annexB.sar[1])
    : pixelAspectOfShownSize(width, height, squareWidth, squareHeight);
  if (!aspect && config?.description && /^avc[13]/.test(codec)) {
    const sar = avcCAspect(bytesOf(config.description));
    aspect = sar && pixelAspect(sar[0], sar[1]);
  }
  const info: VideoTrackInfo = {
    kind: 'video',
    codec,
    codecName: videoCodecName(codec),
    decoderConfig: config ?? { codec },
    width,
    height,
    pixelAspect: aspect,
    rotation: await track.getRotation(),
    colorSpace,
    packets: table.packets,
    ...fieldOrderFacts(codec, avcC, firstAvc?.data),
  };
  return { info, fields: annexB?.fields ?? false, cut: table.cut };
}

async function audioInfo(track: InputAudioTrack, fragments: boolean): Promise<AudioTrackInfo> {
  const config = await track.getDecoderConfig();
  const codec = (await track.getCodecParameterString()) ?? (await track.getCodec()) ?? 'unknown';
  const channels = await track.getNumberOfChannels();
  const sampleRate = await track.getSampleRate();
  const mediabunnyCodec = (await track.getCodec()) ?? codec;
  if ((mediabunnyCodec === 'mp3' || codec === 'unknown') && (await mpegAudioLayer(track)) === 2) {
    // mediabunny 1.61 calls every MPEG audio layer MP3: MP2 (DVB television, with H.264 too) is
    // kept as MP2, which only MP4 holds
    return {
      kind: 'audio',
      codec: 'mp2',
      muxCodec: 'mp2',
      codecName: 'MP2',
      channels,
      sampleRate,
      decoderConfig: { codec: 'mp4a.6b', numberOfChannels: channels, sampleRate },
      packets: (await packetTable(track, fragments)).packets,
      language: trackLanguage(track.languageCode),
      title: track.name || null,
    };
  }
  return {
    kind: 'audio',
    codec,
    muxCodec: muxAudioCodec(mediabunnyCodec, sampleRate),
    codecName: audioCodecName(mediabunnyCodec),
    channels,
    sampleRate,
    decoderConfig: config ?? { codec, numberOfChannels: channels, sampleRate },
    packets: (await packetTable(track, fragments)).packets,
    language: trackLanguage(track.languageCode),
    title: track.name || null,
  };
}

/** The layer (1-3) of an MPEG audio track's first frame header, or null when it has none. */
async function mpegAudioLayer(track: InputAudioTrack): Promise<number | null> {
  const first = await new EncodedPacketSink(track).getFirstPacket().catch(() => null);
  const b = first?.data;
  if (!b || b.length < 2 || b[0] !== 0xff || (b[1]! & 0xe0) !== 0xe0) return null;
  const layer = 4 - ((b[1]! >> 1) & 3);
  return layer >= 1 && layer <= 3 ? layer : null;
}
