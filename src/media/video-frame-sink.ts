/**
 * VideoFrameSink: decodes a video track into DecodedFrames in presentation order, with bounded
 * queues (real backpressure: the decoder's `dequeue` event and the consumer's pace gate the reads).
 */
import { UpframeError } from '../shared/errors.ts';
import { DecodedFrame } from './frame.ts';
import { decodeRangeFor, frameTiming, type FrameTiming } from './frame-timing.ts';
import type { MediaInput } from './input-types.ts';
import { H264Pictures, type PictureScan } from './h264-field-order.ts';
import { mayBeInterlaced } from './h264-sps.ts';
import { frameDecoder } from './jpeg-decoder.ts';
import { isMpegVideo } from './mpeg-video-decoder.ts';
import { MpegPictures } from './mpeg2/stream-facts.ts';
import { isDecodable, undecodableError } from './probe.ts';
import { StallWatch, Wakeup } from './signal.ts';
import type { VideoTrackInfo } from './types.ts';

export interface VideoFrameSinkOptions {
  /** Shown-frame indices, end exclusive. */
  readonly range?: { readonly start: number; readonly end: number };
  /** Decoded frames waiting for the consumer (the decoder may hold a few more inside). */
  readonly maxQueuedFrames?: number;
  /** Chunks inside the decoder not yet decoded. */
  readonly maxDecodeQueue?: number;
  readonly signal?: AbortSignal;
  /** How long the reads and the decoder may show no sign of life (signal.ts). */
  readonly stallLimitMs?: number;
}

export class VideoFrameSink {
  readonly track: VideoTrackInfo;
  readonly timing: FrameTiming;

  constructor(private readonly input: MediaInput) {
    if (!input.video) throw new UpframeError('NO_VIDEO_TRACK', 'This file has no video track.');
    this.track = input.video;
    this.timing = frameTiming(this.track.packets);
  }

  /** Yields each shown frame in [start, end); the consumer owns (and must close) each one. */
  async *frames(options: VideoFrameSinkOptions = {}): AsyncGenerator<DecodedFrame> {
    const total = this.timing.timestampsUs.length;
    const start = options.range?.start ?? 0;
    const end = Math.min(options.range?.end ?? total, total);
    if (start >= end) return;
    if (!(await isDecodable(this.track))) throw undecodableError(this.track);
    const maxQueued = options.maxQueuedFrames ?? 3;
    const maxDecodeQueue = options.maxDecodeQueue ?? 2;
    const indexOf = new Map<number, number>();
    this.timing.timestampsUs.forEach((t, i) => indexOf.set(t, i));

    const queue: DecodedFrame[] = [];
    const wake = new Wakeup();
    // Written from codec callbacks; an object so TypeScript does not narrow it to null.
    const fail: { error: Error | null } = { error: null };
    let producerDone = false;
    let stopped = false;
    // the decoder gives frames in presentation order: the one after the last is the first missing
    let lastOut = start - 1;
    const missingIndex = (): number => Math.min(lastOut + 1, total - 1);
    const firstMissing = (): string => {
      const i = missingIndex();
      const ts = this.timing.timestampsUs;
      return `frame ${i + 1} (${((ts[i]! - ts[0]!) / 1e6).toFixed(2)} s)`;
    };
    // Every output (kept or not), every chunk taken in and every sample read is a sign of life.
    const watch = new StallWatch(options.stallLimitMs);
    let stalled = false;
    // how each picture of interlaced H.264 is shown, read as it goes in, kept until it comes out
    const pictures = pictureReader(this.track.decoderConfig);
    const shown = new Map<number, PictureScan | null>();
    // what the producer waits on, for the stall's sentence
    let waitingOn: 'file' | 'decoder' = 'file';

    const decoder = frameDecoder(this.track.decoderConfig.codec, {
      output: (frame) => {
        watch.progress();
        const index = indexOf.get(frame.timestamp);
        if (index !== undefined && index < lastOut && index >= start && !stopped) {
          // frames come out in the order they are shown: a file whose times are its decode
          // order (H.264 with B-frames in AVI) would show them shuffled
          frame.close();
          fail.error ??= new UpframeError(
            'UNSUPPORTED_CODEC',
            `Frame ${index + 1} came out of the decoder after frame ${lastOut + 1}: this file ` +
              'does not keep the order its frames are shown in (B-frames in an AVI file). Remux ' +
              'it to MP4 first (ffmpeg -i in.avi -c copy out.mp4 changes no frame).',
            { frame: index },
          );
          wake.notify();
          return;
        }
        if (index !== undefined) lastOut = Math.max(lastOut, index);
        const picture = shown.get(frame.timestamp) ?? null;
        shown.delete(frame.timestamp);
        // Frames outside the range were only decoded as references (or are hidden by the edit list).
        if (stopped || index === undefined || index < start || index >= end) {
          frame.close();
          return;
        }
        queue.push(new DecodedFrame(frame, index, picture));
        wake.notify();
      },
      error: (e) => {
        fail.error ??= new UpframeError(
          'CORRUPT_INPUT',
          `The video could not be decoded from ${firstMissing()} on: ${e.message}`,
          { cause: e, frame: missingIndex() },
        );
        wake.notify();
      },
    });
    decoder.addEventListener('dequeue', () => {
      watch.progress();
      wake.notify();
    });
    const onAbort = (): void => {
      fail.error ??= new UpframeError('EXPORT_CANCELED', 'The export was canceled.');
      wake.notify();
    };
    options.signal?.addEventListener('abort', onAbort);
    decoder.configure(this.track.decoderConfig);

    const { from, to } = decodeRangeFor(this.track.packets, this.timing, start, end);
    // decoding starts at the key packet before `start`: the frames it shows from there on count
    // (a preview far into a clip damaged before it names the damage, not the frame asked for)
    const keyShown = this.timing.decodeIndex.indexOf(from);
    if (keyShown >= 0) lastOut = Math.min(lastOut, keyShown - 1);
    const produce = async (): Promise<void> => {
      try {
        for await (const sample of this.input.read('video', { from, to })) {
          watch.progress();
          waitingOn = 'decoder';
          await wake.until(
            () =>
              stopped ||
              fail.error !== null ||
              (decoder.decodeQueueSize < maxDecodeQueue && queue.length < maxQueued),
          );
          if (stopped || fail.error !== null) return;
          if (pictures) shown.set(sample.timestampUs, pictures.scan(sample.data));
          decoder.decode(
            new EncodedVideoChunk({
              type: sample.key ? 'key' : 'delta',
              timestamp: sample.timestampUs,
              duration: sample.durationUs,
              data: sample.data,
            }),
          );
          waitingOn = 'file';
        }
        waitingOn = 'decoder';
        if (!stopped && fail.error === null) await decoder.flush();
      } catch (err) {
        // A file cut short: what was fed still comes out (flush), then the error is reported.
        if (decoder.state === 'configured' && fail.error === null) {
          await decoder.flush().catch(() => undefined);
        }
        fail.error ??= err instanceof Error ? err : new Error(String(err));
      } finally {
        producerDone = true;
        wake.notify();
      }
    };
    const producer = produce();

    try {
      for (;;) {
        await watch.guard(
          wake.until(() => queue.length > 0 || producerDone || fail.error !== null),
          () => {
            stalled = true;
            const s = (watch.limitMs / 1000).toFixed(0);
            return new UpframeError(
              'STALLED',
              waitingOn === 'file'
                ? `Reading the clip stopped at ${firstMissing()}: no data came from the file for ${s} s.`
                : `The browser's video decoder stopped at ${firstMissing()}: no frame came out for ${s} s.`,
            );
          },
        );
        if (fail.error !== null && (queue.length === 0 || isCancel(fail.error))) throw fail.error;
        const next = queue.shift();
        if (next) {
          wake.notify();
          yield next;
          continue;
        }
        if (producerDone) break;
      }
    } finally {
      stopped = true;
      wake.notify();
      options.signal?.removeEventListener('abort', onAbort);
      // a stalled read or flush may never settle: the decoder is closed (which ends a flush) and
      // the producer is left behind rather than waited for
      if (stalled) decoder.close();
      else await producer;
      for (const f of queue) f.close();
      queue.length = 0;
      if (decoder.state !== 'closed') decoder.close();
    }
  }
}

function isCancel(err: unknown): boolean {
  return err instanceof UpframeError && err.code === 'EXPORT_CANCELED';
}

/** A reader of how each picture is shown, for H.264 that may hold fields; else null. */
export function pictureReader(
  config: VideoDecoderConfig,
): { scan(sample: Uint8Array): PictureScan | null } | null {
  if (isMpegVideo(config.codec)) return new MpegPictures();
  if (!/^avc[13]/.test(config.codec)) return null;
  const d = config.description;
  // Annex B (a transport stream) carries its parameter sets in the stream: read them there
  if (!d) return new H264Pictures(null);
  if (!mayBeInterlaced(config)) return null;
  return new H264Pictures(
    ArrayBuffer.isView(d)
      ? new Uint8Array(d.buffer, d.byteOffset, d.byteLength)
      : new Uint8Array(d),
  );
}
