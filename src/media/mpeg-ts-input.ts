/**
 * MPEG transport streams whose video is MPEG-1 or MPEG-2 (stream types 0x01, 0x02), behind the
 * MediaInput interface: DVB and ATSC television recordings (.ts), HDV camcorders' .m2t, DVDs
 * remuxed to TS, in 188-byte packets or M2TS's 192. mediabunny reads H.264 and HEVC transport
 * streams (mkv-input.ts) and leaves MPEG-2 video out, so these are read here, with the pieces
 * of the program-stream reader (mpeg-ps.ts): the same picture and audio-frame splitters, the
 * same timing, the same track facts, for the same MPEG-2 decoder.
 *
 * The sound kept: MP2 (into MP4 as MPEG-1 audio) and MP3, AC-3 (ATSC's type 0x81, DVB's private
 * stream with an AC-3 descriptor), and AAC in ADTS frames, each frame a packet without its ADTS
 * header, with an AudioSpecificConfig made from the first header. Every audio PID is a track,
 * with the language its ISO 639 descriptor gives. E-AC-3, DTS, LPCM and AAC in LATM are left
 * out with a warning.
 *
 * A transport stream has no index: the file is scanned once at open (mpeg-ts-scan.ts), in
 * windows. Times are the PES packets' PTS (90 kHz, unwrapped past 2^33), the earliest packet
 * kept at 0; a picture without a PTS of its own is placed by its temporal reference. A recording
 * that starts mid-stream starts at its first I-picture (with a sequence header when the stream
 * repeats them); one cut short keeps its whole pictures and says so.
 */
import { UpframeError } from '../shared/errors.ts';
import { formatDuration } from '../shared/format.ts';
import { trackLanguage } from './codecs.ts';
import { INTERLACED_NOTE } from './h264-sps.ts';
import type { MediaInput, ReadRange } from './input-types.ts';
import {
  audioInfo,
  audioTimes,
  fieldsOf,
  leftOutAudio,
  readStretches,
  toLocated,
  videoInfo,
  videoTimes,
  type PsLocated,
  type Timed,
} from './mpeg-ps.ts';
import type { ScannedStream, StreamKind } from './mpeg-ps-scan.ts';
import { extractTs } from './mpeg-ts-packets.ts';
import { scanTransportStream } from './mpeg-ts-scan.ts';
import type { PacketTable } from './packet-table.ts';
import { packetLayout, LAYOUT_BYTES, type TsStream } from './ts-psi.ts';
import type { AudioTrackInfo, EncodedSample, VideoTrackInfo } from './types.ts';

/** Transport-stream video types read here: MPEG-1 and MPEG-2 video. */
export const MPEG_VIDEO_TYPES: ReadonlySet<number> = new Set([0x01, 0x02]);

/** How an audio stream of the PMT is gathered, or null when it is left out. */
function audioKind(s: TsStream): StreamKind | null {
  if (s.streamType === 0x03 || s.streamType === 0x04) return 'mpeg-audio';
  if (s.name === 'AC-3') return 'ac3';
  if (s.streamType === 0x0f) return 'adts';
  return null;
}

export class MpegTsInput implements MediaInput {
  readonly container = 'mpegts' as const;
  readonly subtitleTracks = [];

  private constructor(
    readonly blob: Blob,
    private readonly stride: number,
    readonly video: VideoTrackInfo,
    readonly audioTracks: readonly AudioTrackInfo[],
    private readonly located: ReadonlyMap<'video' | number, PsLocated>,
    readonly warnings: string[],
  ) {}

  get audio(): AudioTrackInfo | null {
    return this.audioTracks[0] ?? null;
  }

  /** Opens the file, whose program tables `streams` lists (ts-psi.ts), with its MPEG video. */
  static async open(blob: Blob, streams: readonly TsStream[]): Promise<MpegTsInput> {
    const head = new Uint8Array(await blob.slice(0, LAYOUT_BYTES).arrayBuffer());
    const layout = packetLayout(head);
    const videoStream = streams.find((s) => s.kind === 'video');
    if (!layout || !videoStream || !MPEG_VIDEO_TYPES.has(videoStream.streamType)) {
      throw new UpframeError(
        'CORRUPT_INPUT',
        'This transport stream looks damaged: its program table names no MPEG video.',
      );
    }
    const warnings: string[] = [];
    const wanted = new Map<number, StreamKind>([[videoStream.pid, 'video']]);
    const audioStreams: TsStream[] = [];
    const lost: string[] = [];
    for (const s of streams) {
      if (s.kind !== 'audio' || wanted.has(s.pid)) continue;
      const kind = audioKind(s);
      if (kind) {
        wanted.set(s.pid, kind);
        audioStreams.push(s);
      } else lost.push(s.name);
    }
    for (const name of new Set(lost)) {
      warnings.push(
        `This file's ${name} audio cannot be kept: Upframe cannot copy this format here, and ` +
          'it is left out of the enhanced file.',
      );
    }
    const scan = await scanTransportStream(blob, layout, wanted, (layer) => layer === 1);
    const byPid = new Map(scan.streams.map((s) => [s.key, s]));
    const scanned = byPid.get(videoStream.pid)!;
    if (scan.scrambled.has(videoStream.pid)) {
      throw new UpframeError(
        'UNSUPPORTED_CODEC',
        'This recording is encrypted (scrambled pay TV): only the receiver that recorded it ' +
          'can play it, so Upframe cannot read its picture.',
      );
    }
    const sequence = scanned.video!.sequence;
    const description = scanned.video!.sequenceBytes;
    if (!sequence || !description || sequence.rateNum === 0 || sequence.width === 0) {
      throw new UpframeError(
        'CORRUPT_INPUT',
        scan.cut && scanned.packets.length === 0
          ? 'This file is cut short before its first whole picture.'
          : `This transport stream looks damaged: its ${videoStream.name} has no readable ` +
              'sequence header (the picture size and frame rate).',
      );
    }
    const frameTicks = (90000 * sequence.rateDen) / sequence.rateNum;
    const video = videoTimes(scanned, frameTicks);
    if (video.ticks.length === 0) {
      throw new UpframeError(
        'CORRUPT_INPUT',
        scan.cut
          ? 'This file is cut short before its first whole picture.'
          : 'This transport stream looks damaged: none of its pictures can be decoded (there is ' +
              'no intra-coded picture to start from).',
      );
    }
    const audios: { stream: ScannedStream; timed: Timed; language: string | null }[] = [];
    for (const a of audioStreams) {
      const s = byPid.get(a.pid)!;
      const left = scan.scrambled.has(a.pid)
        ? `This file's ${a.name} audio is encrypted (scrambled pay TV): it is left out of the ` +
          'enhanced file.'
        : (leftOutAudio(s) ?? aacLeftOut(s));
      if (left) warnings.push(left);
      else if (s.packets.length > 0) {
        audios.push({ stream: s, timed: audioTimes(s), language: a.language });
      }
    }
    // the earliest packet kept is at 0, as players show a recording
    let startTicks = Infinity;
    for (const t of [video, ...audios.map((a) => a.timed)]) {
      for (let k = 0; k < t.ticks.length; k++) startTicks = Math.min(startTicks, t.ticks[k]!);
    }
    const videoTable = toLocated(video, startTicks);
    const located = new Map<'video' | number, PsLocated>([['video', videoTable]]);
    const audioTracks = audios.map(({ stream, timed, language }, n) => {
      const table = toLocated(timed, startTicks);
      located.set(n, table);
      const info =
        stream.kind === 'adts' ? aacInfo(stream, table.packets) : audioInfo(stream, table.packets);
      return { ...info, language: trackLanguage(language) };
    });
    if (audioTracks.length === 0 && warnings.length > 0) {
      warnings.push('The enhanced video will have no sound.');
    }
    const fields = fieldsOf(scanned.packets.flags.done());
    const interlaced = !sequence.progressive && fields.interlaced;
    if (interlaced) warnings.push(INTERLACED_NOTE);
    const info = videoInfo(
      sequence,
      description,
      videoTable.packets,
      interlaced && fields.bottomFirst,
    );
    if (scan.cut) {
      const { timestampUs, durationUs, length } = videoTable.packets;
      let endUs = 0;
      for (let k = 0; k < length; k++) endUs = Math.max(endUs, timestampUs[k]! + durationUs[k]!);
      warnings.push(
        `This recording is cut short inside a picture: it holds ${length} whole frames ` +
          `(${formatDuration(endUs / 1e6)}). Upframe enhances what is there.`,
      );
    }
    if (scan.skipped > 64 * 1024) {
      warnings.push(
        `Parts of this file are damaged (${Math.round(scan.skipped / 1024)} KB could not be ` +
          'read): the pictures there may show faults.',
      );
    }
    return new MpegTsInput(blob, layout.stride, info, audioTracks, located, warnings);
  }

  readSubtitles(): Promise<[]> {
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
    const from = range?.from ?? 0;
    const to = Math.min(range?.to ?? total, total);
    const { stream, skip, packets } = table;
    const stride = this.stride;
    yield* readStretches(
      this.blob,
      table,
      from,
      to,
      (bytes, at, k) => extractTs(bytes, at, stream, skip[k]!, packets.byteLength[k]!, stride),
      'this transport stream',
    );
  }

  close(): void {}
}

/** Why an AAC stream cannot be kept, or null: its channels must be in its ADTS header. */
function aacLeftOut(s: ScannedStream): string | null {
  const adts = s.audio?.format?.adts;
  if (s.kind !== 'adts' || !adts || adts.channelConfig !== 0) return null;
  return (
    "This file's AAC audio cannot be kept: its channel layout is given in a way Upframe " +
    'does not read, and it is left out of the enhanced file.'
  );
}

/** AAC from its first ADTS header: the AudioSpecificConfig (ISO/IEC 14496-3 1.6.2.1). */
function aacInfo(s: ScannedStream, packets: PacketTable): AudioTrackInfo {
  const f = s.audio!.format!;
  const { profile, rateIndex, channelConfig } = f.adts!;
  const objectType = profile + 1;
  const description = Uint8Array.from([
    (objectType << 3) | (rateIndex >> 1),
    ((rateIndex & 1) << 7) | (channelConfig << 3),
  ]);
  return {
    kind: 'audio',
    codec: `mp4a.40.${objectType}`,
    muxCodec: 'aac',
    codecName: 'AAC',
    channels: f.channels,
    sampleRate: f.sampleRate,
    decoderConfig: {
      codec: `mp4a.40.${objectType}`,
      numberOfChannels: f.channels,
      sampleRate: f.sampleRate,
      description,
    },
    packets,
    language: null,
    title: null,
  };
}
