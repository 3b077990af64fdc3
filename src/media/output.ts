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
  WebMOutputFormat,
  type OutputFormat,
  type Target,
} from 'mediabunny';
import { UpframeError } from '../shared/errors.ts';
import { CODEC_NAMES, type VideoCodecChoice } from './encoder-config.ts';
import type { MediaInput } from './input-types.ts';
import { displayAspect } from './pixel-aspect.ts';
import type { OutputTarget } from './targets.ts';
import type { EncodedSample, Rotation } from './types.ts';

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
): OutputContainer {
  const webm = makeFormat('webm');
  if (
    rotation === 0 &&
    webm.getSupportedVideoCodecs().includes(video) &&
    (audio === null || (webm.getSupportedAudioCodecs() as string[]).includes(audio))
  ) {
    return 'webm';
  }
  return chooseContainer(undefined, video, audio);
}

/**
 * Pairings mediabunny writes that players do not play: Vorbis in MP4 has no standard mapping
 * (ffmpeg reads it back; browsers, QuickTime and most players do not).
 */
function unplayable(container: OutputContainer, audio: string): boolean {
  return container === 'mp4' && audio === 'vorbis';
}

/** MP4 unless a track cannot go there; an explicit choice that cannot carry the tracks is refused. */
export function chooseContainer(
  requested: OutputContainer | undefined,
  video: VideoCodecChoice,
  audio: string | null,
): OutputContainer {
  const fits = (c: OutputContainer): boolean => {
    const f = makeFormat(c);
    return (
      f.getSupportedVideoCodecs().includes(video) &&
      (audio === null ||
        ((f.getSupportedAudioCodecs() as string[]).includes(audio) && !unplayable(c, audio)))
    );
  };
  if (requested) {
    if (!fits(requested)) {
      // say which container would hold them (MKV holds every pairing Upframe writes)
      const instead = (['mkv', 'mp4', 'webm'] as const).find((c) => c !== requested && fits(c));
      throw new UpframeError(
        'INVALID_OPTION',
        `A ${requested.toUpperCase()} file cannot hold ${CODEC_NAMES[video]} video` +
          (audio ? ` with ${audio.toUpperCase()} audio` : '') +
          (instead ? `: choose ${instead.toUpperCase()} (a .${instead} file) instead.` : '.'),
      );
    }
    return requested;
  }
  for (const c of ['mp4', 'webm', 'mkv'] as const) if (fits(c)) return c;
  throw new UpframeError(
    'INVALID_OPTION',
    `No output container holds ${video} video with ${audio} audio.`,
  );
}

export class MuxWriter {
  readonly warnings: string[] = [];
  private readonly output: Output;
  private readonly videoSource: EncodedVideoPacketSource;
  private readonly audioSource: EncodedAudioPacketSource | null = null;
  private audioPackets: AsyncGenerator<EncodedSample> | null = null;
  private pendingAudio: EncodedSample | null = null;
  private audioConfigSent = false;
  private audioDone = true;
  private chain: Promise<void> = Promise.resolve();
  audioPacketsCopied = 0;

  constructor(
    target: OutputTarget,
    readonly container: OutputContainer,
    codec: VideoCodecChoice,
    rotation: Rotation,
    private readonly input: MediaInput,
    private readonly audioWindow: AudioWindow | null,
    /** Write a fragmented MP4 part (parts.ts) instead of the final container. */
    part = false,
  ) {
    const stream = new StreamTarget(target.open());
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
    const audio = input.audio;
    if (audio?.muxCodec && audioWindow) {
      this.audioSource = new EncodedAudioPacketSource(audio.muxCodec);
      this.output.addAudioTrack(this.audioSource);
      this.audioPackets = input.read('audio');
      this.audioDone = false;
    }
  }

  start(): Promise<void> {
    return this.output.start();
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
    this.audioSource?.close();
    await this.output.finalize();
  }

  async cancel(): Promise<void> {
    await this.audioPackets?.return(undefined).catch(() => undefined);
    if (this.output.state !== 'finalized' && this.output.state !== 'canceled') {
      await this.output.cancel().catch(() => undefined);
    }
  }

  /** Copies source audio packets up to (source) time `untilUs`, untouched. */
  private async pumpAudio(untilUs: number): Promise<void> {
    const source = this.audioSource;
    const window = this.audioWindow;
    if (!source || !window || this.audioDone) return;
    for (;;) {
      if (!this.pendingAudio) {
        const next = await this.audioPackets!.next();
        if (next.done) {
          this.audioDone = true;
          return;
        }
        this.pendingAudio = next.value;
      }
      const p = this.pendingAudio;
      if (p.timestampUs > untilUs) return;
      this.pendingAudio = null;
      if (p.timestampUs < window.fromUs || p.timestampUs >= window.toUs) continue;
      const packet = new EncodedPacket(
        p.data,
        p.key ? 'key' : 'delta',
        (p.timestampUs - window.shiftUs) / 1e6,
        p.durationUs / 1e6,
      );
      const meta = this.audioConfigSent
        ? undefined
        : { decoderConfig: this.input.audio!.decoderConfig };
      this.audioConfigSent = true;
      await source.add(packet, meta);
      this.audioPacketsCopied++;
    }
  }
}
