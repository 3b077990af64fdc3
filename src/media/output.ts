/**
 * MuxWriter: mediabunny's Output with an encoded-video source and the source's audio copied packet
 * for packet. Audio is added just ahead of the video it plays with, so the muxer never holds more
 * than a moment of either track (mediabunny buffers a track that runs ahead of the others).
 */
import {
  EncodedAudioPacketSource,
  EncodedPacket,
  EncodedVideoPacketSource,
  MkvOutputFormat,
  Mp4OutputFormat,
  Output,
  StreamTarget,
  TextSubtitleSource,
  WebMOutputFormat,
  type AudioTrackMetadata,
  type OutputFormat,
  type StreamTargetChunk,
  type Target,
} from 'mediabunny';
import { UpframeError } from '../shared/errors.ts';
import { audioCodecName, writtenAs } from './codecs.ts';
import { CODEC_NAMES, type VideoCodecChoice } from './encoder-config.ts';
import type { MediaInput } from './input-types.ts';
import { displayAspect } from './pixel-aspect.ts';
import type { OutputTarget } from './targets.ts';
import type { PacketTable } from './packet-table.ts';
import { SrtTracks } from './mkv-srt.ts';
import { webVttDocument, type SubtitleCopy } from './subtitle-text.ts';
import type { AudioTrackInfo, EncodedSample, Rotation } from './types.ts';

export type OutputContainer = 'mp4' | 'webm' | 'mkv';

/** What a written file holds: transcode's and the join's result. */
export interface OutputFacts {
  readonly frames: number;
  readonly durationSeconds: number;
  readonly bytes: number;
  /** WebCodecs codec string actually used, e.g. avc1.64001f. */
  readonly codec: string;
  readonly container: OutputContainer;
  readonly width: number;
  readonly height: number;
  readonly audioPacketsCopied: number;
  /** Audio tracks the file holds (each with packets copied). */
  readonly audioTracks: number;
  /** Text subtitle tracks the file holds. */
  readonly subtitleTracks: number;
  readonly warnings: readonly string[];
}

export interface AudioWindow {
  /** Copy audio packets whose timestamps fall in [fromUs, toUs)... */
  readonly fromUs: number;
  readonly toUs: number;
  /** ...and subtract this from their timestamps (the start of the exported frame range). */
  readonly shiftUs: number;
}

/**
 * A render part (see parts.ts) is fragmented MP4 whatever the final container: every fragment
 * (one keyframe interval) is complete on disk once written, so a tab that closes or crashes keeps
 * the frames of every fragment before the one in flight. MP4 holds every codec we copy or encode.
 */
export function partOutput(
  target: Target,
  minimumFragmentDuration = 1,
): { output: Output; format: OutputFormat } {
  let finished = 0;
  const format = new Mp4OutputFormat({
    fastStart: 'fragmented',
    minimumFragmentDuration,
    // called as each fragment is written, before it joins the finished ones
    onMoof: () => {
      finished = forgetFinishedSamples(output, finished);
    },
  });
  const output: Output = new Output({ format, target });
  return { output, format };
}

interface MuxerChunk {
  samples: unknown[];
}

/**
 * mediabunny 1.61's fragmented MP4 muxer keeps the metadata of every sample of every finished
 * fragment (their data already released) until it finalizes, where it reads only each fragment's
 * first sample (for the mfra index). That is about 240 bytes per frame with its audio, some 40 MiB
 * over a two-hour film (`npm run bench -- --only long-clip --long 172800`). Dropping the rest
 * after each fragment keeps a part's memory flat. These are mediabunny's internal fields: if a later version renames
 * them this does nothing, and parts.test.ts says so. Returns how many chunks are trimmed.
 */
function forgetFinishedSamples(output: Output, from: number): number {
  const muxer = (output as unknown as { _muxer?: { finalizedChunks?: MuxerChunk[] } })._muxer;
  const chunks = muxer?.finalizedChunks;
  if (!Array.isArray(chunks)) return from;
  for (let i = from; i < chunks.length; i++) {
    const samples = chunks[i]!.samples;
    if (Array.isArray(samples) && samples.length > 1) samples.length = 1;
  }
  return chunks.length;
}

export function makeFormat(container: OutputContainer): OutputFormat {
  switch (container) {
    case 'mp4':
      // Moov at the end: the mdat streams to disk and only the sample table stays in memory.
      return new Mp4OutputFormat({ fastStart: false });
    case 'webm':
      return new WebMOutputFormat();
    case 'mkv':
      return new MkvOutputFormat();
  }
}

/**
 * The file type the page writes for an output codec: WebM for VP9 and AV1 (what people who pick
 * them want) when it holds the audio and the picture needs no rotation, which WebM cannot store;
 * otherwise what `chooseContainer` picks (MP4, which holds every codec we copy or encode).
 */
export function preferredContainer(
  video: VideoCodecChoice,
  audio: string | null,
  rotation: number,
  moreAudio: readonly string[] = [],
  subtitles = false,
): OutputContainer {
  // MKV keeps subtitles, but not a rotation: a rotated clip stays the right way up instead
  const subs = subtitles && rotation === 0;
  const webm = makeFormat('webm');
  if (
    !subs &&
    rotation === 0 &&
    webm.getSupportedVideoCodecs().includes(video) &&
    [audio, ...moreAudio].every((a) => a === null || holdsAudio('webm', a))
  ) {
    return 'webm';
  }
  return chooseContainer(undefined, video, audio, moreAudio, subs);
}

/**
 * Pairings mediabunny writes that players do not play: Vorbis in MP4 has no standard mapping
 * (ffmpeg reads it back; browsers, QuickTime and most players do not).
 */
function unplayable(container: OutputContainer, audio: string): boolean {
  return container === 'mp4' && audio === 'vorbis';
}

/** Whether a `container` file holds `audio` (a mediabunny codec id) so that players play it. */
export function holdsAudio(container: OutputContainer, audio: string): boolean {
  if (audio === 'mp2') return container === 'mp4';
  const codecs = makeFormat(container).getSupportedAudioCodecs() as string[];
  return codecs.includes(audio) && !unplayable(container, audio);
}

/**
 * MP4 unless a track cannot go there; an explicit choice that cannot carry the video and the
 * first audio track is refused. `moreAudio`: the file's other audio tracks, which the choice
 * holds too where one container holds them all (else they are left out, MuxWriter says so).
 * `subtitles`: the file has text subtitles, which only MKV keeps (SubtitleWriter), so MKV first.
 */
export function chooseContainer(
  requested: OutputContainer | undefined,
  video: VideoCodecChoice,
  audio: string | null,
  moreAudio: readonly string[] = [],
  subtitles = false,
): OutputContainer {
  const fits = (c: OutputContainer): boolean =>
    makeFormat(c).getSupportedVideoCodecs().includes(video) &&
    (audio === null || holdsAudio(c, audio));
  if (requested) {
    if (!fits(requested)) {
      // say which container would hold them (MKV holds every pairing Upframe writes)
      const instead = (['mkv', 'mp4', 'webm'] as const).find((c) => c !== requested && fits(c));
      const name = { mp4: 'MP4', webm: 'WebM', mkv: 'MKV' } as const;
      throw new UpframeError(
        'INVALID_OPTION',
        `${requested === 'webm' ? 'A' : 'An'} ${name[requested]} file cannot hold ` +
          `${CODEC_NAMES[video]} video` +
          (audio ? ` with ${audioCodecName(audio)} audio` : '') +
          (instead ? `: choose ${name[instead]} (a .${instead} file) instead.` : '.'),
      );
    }
    return requested;
  }
  const order = subtitles ? (['mkv', 'mp4', 'webm'] as const) : (['mp4', 'webm', 'mkv'] as const);
  const all = order.find((c) => fits(c) && moreAudio.every((a) => holdsAudio(c, a)));
  if (all) return all;
  for (const c of order) if (fits(c)) return c;
  throw new UpframeError(
    'INVALID_OPTION',
    `No output container holds ${video} video with ${audio} audio.`,
  );
}

/** One audio track being copied: its source packets, read ahead by one. */
interface AudioLane {
  readonly info: AudioTrackInfo;
  readonly source: EncodedAudioPacketSource;
  readonly packets: AsyncGenerator<EncodedSample>;
  pending: EncodedSample | null;
  configSent: boolean;
  /** Source time of the last packet added, -Infinity before the first. */
  lastUs: number;
  /** No packet is left to add: its source is closed (see `endLane`). */
  done: boolean;
}

/**
 * What the output says of an audio track: its language and title as the source gave them, and
 * which one a player picks (the source's first-picked track, listed first).
 */
export function audioTrackMetadata(
  info: Pick<AudioTrackInfo, 'language' | 'title'>,
  first: boolean,
): AudioTrackMetadata {
  return {
    ...(info.language ? { languageCode: info.language } : {}),
    ...(info.title ? { name: info.title } : {}),
    disposition: { default: first },
  };
}

/** The sentence for audio tracks left out of an output, or null when every one is kept. */
export function audioLeftOutNote(
  tracks: readonly { readonly codecName: string; readonly muxCodec: string | null }[],
  container: OutputContainer,
): string | null {
  const names = tracks
    .filter((t) => t.muxCodec === null || !holdsAudio(container, t.muxCodec))
    .map((t) => t.codecName);
  if (names.length === 0) return null;
  if (names.length === tracks.length && tracks.length === 1) {
    return `The ${names[0]} audio cannot be copied and was left out.`;
  }
  const list = [...new Set(names)].join(' and ');
  return names.length === 1
    ? `The ${list} audio track cannot be copied into ${container.toUpperCase()} and was left ` +
        `out; the other audio ${tracks.length === 2 ? 'track is' : 'tracks are'} kept.`
    : `${names.length} of the ${tracks.length} audio tracks (${list}) cannot be copied into ${container.toUpperCase()} and were left out.`;
}

/**
 * The note for `n` subtitle tracks a render leaves out, and why: by default, that it is an MP4 or
 * WebM (they hold WebVTT, which few players show from them).
 */
export function subtitlesLeftOut(n: number, why = 'only an MKV file keeps them'): string {
  const tracks = n === 1 ? 'subtitle track was' : `${n} subtitle tracks were`;
  return `The clip's ${tracks} left out: ${why}.`;
}

/**
 * Subtitle tracks being written, as SRT into MKV (mkv-srt.ts): `wrap` the file's stream before
 * the Output is made, `addTracks` after its video and audio tracks, `write` right after
 * `start()`, and `check` after `finalize()`.
 */
export class SubtitleWriter {
  readonly warnings: string[] = [];
  private readonly sources: { source: TextSubtitleSource; copy: SubtitleCopy }[] = [];
  private readonly kept: readonly SubtitleCopy[];
  private srt: SrtTracks | null = null;

  /** How many subtitle tracks the file holds. */
  get tracks(): number {
    return this.sources.length;
  }

  /** `rotated`: the clip's picture is rotated (MKV, which keeps subtitles, cannot store that). */
  constructor(container: OutputContainer, copies: readonly SubtitleCopy[], rotated = false) {
    this.kept = container === 'mkv' ? copies : [];
    const n = copies.length;
    if (n > 0 && container !== 'mkv') {
      this.warnings.push(
        rotated
          ? subtitlesLeftOut(
              n,
              "MKV, the one file type Upframe keeps them in, cannot store this clip's rotation",
            )
          : subtitlesLeftOut(n),
      );
    }
    if (this.kept.some((c) => c.info.kind === 'ass')) {
      this.warnings.push(
        'The styled (ASS) subtitles keep their words, line breaks and side of the screen, ' +
          'not their fonts, colours or exact position.',
      );
    }
  }

  /** The stream the Output writes to: its subtitle track headers renamed SRT. */
  wrap(stream: WritableStream<StreamTargetChunk>): WritableStream<StreamTargetChunk> {
    if (this.kept.length === 0) return stream;
    this.srt = new SrtTracks(stream, this.kept.length);
    return this.srt.stream;
  }

  addTracks(output: Output): void {
    for (const copy of this.kept) {
      const source = new TextSubtitleSource('webvtt');
      const { language, title, isDefault, forced, hearingImpaired } = copy.info;
      output.addSubtitleTrack(source, {
        ...(language ? { languageCode: language } : {}),
        ...(title ? { name: title } : {}),
        disposition: { default: isDefault, forced, hearingImpaired },
      });
      this.sources.push({ source, copy });
    }
  }

  /**
   * Adds every line and closes each track. Right after `start()`: the muxer writes a cluster
   * only once every open track has its next packet queued, so a subtitle track left open would
   * hold every frame in memory; its lines are few, so they are queued at once.
   */
  async write(): Promise<void> {
    for (const { source, copy } of this.sources) {
      await source.add(webVttDocument(copy.cues));
      source.close();
    }
  }

  /** After the file is written: says so if a track header was not renamed (a new mediabunny). */
  check(): string | null {
    if (!this.srt || this.srt.renamed >= this.sources.length) return null;
    return 'The subtitles were written as WebVTT, which ffmpeg-based players and VLC do not show.';
  }
}

/**
 * The first packet of an audio table that plays at or after `fromUs`, less one (whatever the
 * window filter then drops): found by halving, audio packets being in time order.
 */
export function firstPacketAt(table: PacketTable, fromUs: number): number {
  if (!(fromUs > -Infinity)) return 0;
  let lo = 0;
  let hi = table.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (table.timestampUs[mid]! < fromUs) lo = mid + 1;
    else hi = mid;
  }
  return Math.max(0, lo - 1);
}

export class MuxWriter {
  readonly warnings: string[] = [];
  private readonly output: Output;
  private readonly videoSource: EncodedVideoPacketSource;
  private readonly lanes: AudioLane[] = [];
  private readonly subtitles: SubtitleWriter;
  private chain: Promise<void> = Promise.resolve();
  /** Audio goes one packet ahead of the frames (a part's writer; see pumpAudio). */
  private readonly ahead: boolean;
  audioPacketsCopied = 0;

  /** The audio tracks this writer copies into the file. */
  get audioTracks(): number {
    return this.lanes.length;
  }

  /** The subtitle tracks this writer puts into the file. */
  get subtitleTracks(): number {
    return this.subtitles.tracks;
  }

  constructor(
    target: OutputTarget,
    readonly container: OutputContainer,
    codec: VideoCodecChoice,
    rotation: Rotation,
    private readonly input: MediaInput,
    private readonly audioWindow: AudioWindow | null,
    /** Write a fragmented MP4 part (parts.ts) instead of the final container. */
    part = false,
    /** Subtitle tracks to write (a part has none: the join adds them). */
    subtitles: readonly SubtitleCopy[] = [],
  ) {
    this.ahead = part;
    this.subtitles = new SubtitleWriter(container, part ? [] : subtitles, rotation !== 0);
    this.warnings.push(...this.subtitles.warnings);
    const stream = new StreamTarget(this.subtitles.wrap(target.open()));
    let format: OutputFormat;
    if (part) {
      ({ output: this.output, format } = partOutput(stream));
    } else {
      format = makeFormat(container);
      this.output = new Output({ format, target: stream });
    }
    this.videoSource = new EncodedVideoPacketSource(codec);
    const keepRotation = rotation !== 0 && format.supportsVideoRotationMetadata;
    if (rotation !== 0 && !keepRotation) {
      this.warnings.push(
        `The ${container} format cannot store rotation; the video will appear unrotated.`,
      );
    }
    this.output.addVideoTrack(this.videoSource, keepRotation ? { rotation } : {});
    if (audioWindow) this.addAudio(input, container, audioWindow, part);
    this.subtitles.addTracks(this.output);
  }

  /**
   * Every audio track the file holds (a film's other languages, a commentary); a part is MP4,
   * whose writer takes each codec copied (Vorbis too, which players do not play from MP4 but the
   * join then puts into the WebM or MKV the render makes).
   */
  private addAudio(
    input: MediaInput,
    container: OutputContainer,
    audioWindow: AudioWindow,
    part: boolean,
  ): void {
    const partCodecs = part ? (makeFormat('mp4').getSupportedAudioCodecs() as string[]) : null;
    input.audioTracks.forEach((info, k) => {
      const codec = info.muxCodec;
      if (
        !codec ||
        !holdsAudio(container, codec) ||
        (partCodecs && !partCodecs.includes(writtenAs(codec)))
      ) {
        return;
      }
      const source = new EncodedAudioPacketSource(writtenAs(codec));
      this.output.addAudioTrack(source, audioTrackMetadata(info, this.lanes.length === 0));
      // from the window's start: a range late in a film (or a continued render) does not read
      // the hours of audio before it (in Matroska, every cluster of them)
      const from = firstPacketAt(info.packets, audioWindow.fromUs);
      const packets = input.read('audio', { from, to: info.packets.length }, k);
      this.lanes.push({
        info,
        source,
        packets,
        pending: null,
        configSent: false,
        lastUs: -Infinity,
        done: false,
      });
    });
  }

  async start(): Promise<void> {
    await this.output.start();
    await this.subtitles.write();
  }

  /** Queues one encoded video chunk; resolves when it (and the audio before it) is in the muxer. */
  addVideo(
    chunk: EncodedVideoChunk,
    meta: EncodedVideoChunkMetadata | undefined,
    shiftUs: number,
  ): Promise<void> {
    const config = meta?.decoderConfig;
    const aspect = this.input.video?.pixelAspect;
    if (config && aspect && config.codedWidth && config.codedHeight) {
      // the source's pixel shape: mediabunny writes it as pasp (MP4) or DisplayWidth/Height
      const shown = displayAspect(config.codedWidth, config.codedHeight, aspect);
      meta = { ...meta, decoderConfig: { ...config, ...shown } };
    }
    const packet = EncodedPacket.fromEncodedChunk(chunk);
    const shifted =
      shiftUs === 0 ? packet : packet.clone({ timestamp: packet.timestamp - shiftUs / 1e6 });
    this.chain = this.chain.then(async () => {
      await this.pumpAudio(chunk.timestamp);
      await this.videoSource.add(shifted, meta);
    });
    return this.chain;
  }

  /** Copies the rest of the audio (up to source time `audioUntilUs`) and writes the index. */
  async finish(audioUntilUs = Infinity): Promise<void> {
    await this.chain;
    await this.pumpAudio(audioUntilUs);
    this.videoSource.close();
    // (finalize at once after the closes: it waits for what they write and says if a write
    // failed; with a wait between them, mediabunny 1.61 lost a failed write, a full disk, in the
    // close and the file's end then waited forever)
    for (const lane of this.lanes) this.endLane(lane);
    await this.output.finalize();
    const renamed = this.subtitles.check();
    if (renamed) this.warnings.push(renamed);
  }

  async cancel(): Promise<void> {
    for (const lane of this.lanes) await lane.packets.return(undefined).catch(() => undefined);
    if (this.output.state !== 'finalized' && this.output.state !== 'canceled') {
      await this.output.cancel().catch(() => undefined);
    }
  }

  /**
   * A track with nothing more to add is closed at once: the muxer writes a fragment (or a
   * cluster) only when every open track has a packet for it, so a commentary that ends an hour
   * before the film would keep every later frame in memory until the end. (mediabunny 1.61
   * does not report a write that fails in what a close writes: a disk that fills at exactly
   * that moment ends the render as STALLED after the stall limit, its frames kept, not as
   * DISK_FULL.)
   */
  private endLane(lane: AudioLane): void {
    if (lane.done) return;
    lane.done = true;
    lane.pending = null;
    lane.source.close();
    void lane.packets.return(undefined).catch(() => undefined);
  }

  /**
   * Copies each audio track's source packets up to (source) time `untilUs`, untouched; a part's
   * writer also adds the packet after: the muxer writes a fragment (or a cluster) only when every
   * open track has reached it, so a track that starts late (a commentary a minute in) or pauses
   * would otherwise keep every frame before its next packet in memory. One packet ahead tells
   * the muxer where the track is, holding no more than that packet. (A part's audio past its
   * last frame is cut by the join when a render ends early; a render straight into memory, tests
   * and the harness's small jobs, cannot take a packet back, so it adds none ahead.)
   */
  private async pumpAudio(untilUs: number): Promise<void> {
    const window = this.audioWindow;
    if (!window) return;
    for (const lane of this.lanes) {
      while (!lane.done && (!this.ahead || lane.lastUs <= untilUs)) {
        if (!lane.pending) {
          const next = await lane.packets.next();
          if (next.done) {
            this.endLane(lane);
            break;
          }
          lane.pending = next.value;
        }
        const p = lane.pending;
        // (audio packets come in time order: the first past the window ends the track)
        if (p.timestampUs >= window.toUs) {
          this.endLane(lane);
          break;
        }
        if (!this.ahead && p.timestampUs > untilUs) break;
        lane.pending = null;
        if (p.timestampUs < window.fromUs) continue;
        lane.lastUs = p.timestampUs;
        const packet = new EncodedPacket(
          p.data,
          p.key ? 'key' : 'delta',
          (p.timestampUs - window.shiftUs) / 1e6,
          p.durationUs / 1e6,
        );
        const meta = lane.configSent ? undefined : { decoderConfig: lane.info.decoderConfig };
        lane.configSent = true;
        await lane.source.add(packet, meta);
        this.audioPacketsCopied++;
      }
    }
  }
}
