/**
 * transcode: the one call the job worker makes. Decode -> process (the enhancer) -> encode -> mux,
 * with the source audio copied. Stages overlap: while `process` works on frame n, the decoder is
 * already producing n+1 (VideoFrameSink runs ahead by a bounded queue) and the encoder is still
 * working on n-1 (VideoEncoder is asynchronous; we wait only when its queue is full).
 */
import type { PictureScan } from '../shared/deinterlace-rows.ts';
import { toErrorInfo, UpframeError } from '../shared/errors.ts';
import {
  bitrateFor,
  chooseEncoderConfig,
  CODEC_NAMES,
  cropNote,
  encodableSize,
  PRESET_QUANTIZER,
  quantizerOptions,
  type QualityChoice,
  type VideoCodecChoice,
} from './encoder-config.ts';
import { INTERLACED_NOTE } from './h264-sps.ts';
import { forgetInputs, leaseInput } from './input-cache.ts';
import { EncodableFrames } from './to-i420.ts';
import {
  audioLeftOutNote,
  chooseContainer,
  makeFormat,
  MuxWriter,
  type OutputContainer,
  type OutputFacts,
} from './output.ts';
import { isDecodable, undecodableError } from './probe.ts';
import { STALL_LIMIT_MS, StallWatch, Wakeup } from './signal.ts';
import { rangeWindow, unreadableSubtitles, type SubtitleCopy } from './subtitle-text.ts';
import type { OutputTarget } from './targets.ts';
import { VideoFrameSink } from './video-frame-sink.ts';

export interface StageTimings {
  /** Time the pipeline waited for decoded frames (demux + decode not hidden behind other work). */
  readonly decodeMs: number;
  /** Time spent inside `process`. */
  readonly processMs: number;
  /** Time the pipeline waited on the encoder and muxer (backpressure, flush, finalize). */
  readonly encodeMs: number;
}

export interface TranscodeProgress extends StageTimings {
  readonly framesDone: number;
  readonly framesTotal: number;
  /** Frames written by this call (framesDone counts those of earlier parts too). */
  readonly framesThisRun: number;
}

export interface TranscodeOptions {
  readonly input: Blob;
  readonly target: OutputTarget;
  /** Default 'avc' (H.264). */
  readonly codec?: VideoCodecChoice;
  /** Default: MP4, or WebM/MKV when the audio cannot go into MP4. */
  readonly container?: OutputContainer;
  /** Default 'medium'. */
  readonly quality?: QualityChoice;
  /** Default 2. */
  readonly keyframeIntervalSeconds?: number;
  /** Shown-frame indices, end exclusive. Output timestamps then start at 0. */
  readonly frameRange?: { readonly start: number; readonly end: number };
  /**
   * Continues a render whose frames before this index (inside the range) are already in earlier
   * parts: encoding starts here, with the range's timestamps and audio window, and the frame
   * before is run through `process` once (output dropped) so a temporal model has its previous
   * frame. Progress counts the frames already done.
   */
  readonly resumeAt?: number;
  /**
   * With `resumeAt`: where the audio the earlier parts hold ends, on the output's timeline
   * (parts.ts partExtent); this part's audio starts there. Default: at the resumed frame.
   */
  readonly resumeAudioAtUs?: number;
  /** Write a fragmented MP4 render part (parts.ts) instead of the final container. */
  readonly part?: boolean;
  /** Output size from the visible source size (before rotation). Default identity. */
  readonly outputSize?: (width: number, height: number) => { width: number; height: number };
  /**
   * Returns a NEW frame it owns; transcode closes both. Must keep the input's timestamp.
   * `picture`: how the stream says the frame is shown (interlaced H.264), or null.
   */
  readonly process?: (
    frame: VideoFrame,
    index: number,
    picture: PictureScan | null,
  ) => Promise<VideoFrame>;
  readonly signal?: AbortSignal;
  readonly onProgress?: (p: TranscodeProgress) => void;
  /**
   * How long the decoder, the encoder or the writes may show no sign of life before the render
   * stops with STALLED (signal.ts). Default 60 s.
   */
  readonly stallLimitMs?: number;
}

export interface TranscodeResult extends StageTimings, OutputFacts {
  /**
   * The video could not be decoded to the range's end: the file ends at the last good frame
   * (a warning says where). The command line exits 3 for it, so a script can tell.
   */
  readonly endedEarly: boolean;
}

const MAX_ENCODE_QUEUE = 2;
const MAX_MUX_PENDING = 4;

function canceled(): UpframeError {
  return new UpframeError('EXPORT_CANCELED', 'The export was canceled.');
}

function validate(opts: TranscodeOptions): void {
  const bad = (name: string, why: string): UpframeError =>
    new UpframeError('INVALID_OPTION', `Option ${name} ${why}.`);
  if (!(opts.input instanceof Blob)) throw bad('input', 'must be a Blob or File');
  if (opts.codec !== undefined && !['avc', 'vp9', 'av1'].includes(opts.codec)) {
    throw bad('codec', `must be 'avc', 'vp9' or 'av1', not '${String(opts.codec)}'`);
  }
  const k = opts.keyframeIntervalSeconds;
  if (k !== undefined && !(k > 0 && Number.isFinite(k))) {
    throw bad('keyframeIntervalSeconds', `must be a positive number of seconds, not ${k}`);
  }
  const r = opts.frameRange;
  if (
    r &&
    !(Number.isInteger(r.start) && Number.isInteger(r.end) && r.start >= 0 && r.end > r.start)
  ) {
    throw bad('frameRange', `must have integers 0 <= start < end, not ${r.start}..${r.end}`);
  }
  const at = opts.resumeAt;
  if (at !== undefined && !(Number.isInteger(at) && at >= (r?.start ?? 0) && (!r || at < r.end))) {
    throw bad('resumeAt', `must be a frame index inside the range, not ${at}`);
  }
}

export async function transcode(opts: TranscodeOptions): Promise<TranscodeResult> {
  validate(opts);
  const { target, signal } = opts;
  if (signal?.aborted) throw canceled();
  const codec = opts.codec ?? 'avc';
  const lease = await leaseInput(opts.input);
  const input = lease.input;
  let mux: MuxWriter | null = null;
  let encoder: VideoEncoder | null = null;
  // Written from codec callbacks; an object so TypeScript does not narrow it to null.
  const fail: { error: Error | null } = { error: null };
  let frames: AsyncGenerator<unknown> | null = null;
  try {
    const video = input.video!;
    if (!(await isDecodable(video))) throw undecodableError(video);
    const sink = new VideoFrameSink(input);
    const timing = sink.timing;
    const total = timing.timestampsUs.length;
    const start = opts.frameRange?.start ?? 0;
    const end = Math.min(opts.frameRange?.end ?? total, total);
    if (start >= total) {
      throw new UpframeError(
        'INVALID_OPTION',
        `Option frameRange starts at frame ${start}, but the video has ${total} frames.`,
      );
    }
    const size = opts.outputSize?.(video.width, video.height) ?? {
      width: video.width,
      height: video.height,
    };
    if (!(
      Number.isInteger(size.width) &&
      Number.isInteger(size.height) &&
      size.width > 0 &&
      size.height > 0
    )) {
      throw new UpframeError(
        'INVALID_OPTION',
        `Option outputSize must return positive integers, not ${size.width}x${size.height}.`,
      );
    }
    const fps = timing.averageFps > 0 ? timing.averageFps : 30;
    // (odd sizes come without a model, or from a custom pack at an odd scale: 2x and 4x are even)
    const encoded = encodableSize(codec, size);
    const crop = encoded.width !== size.width || encoded.height !== size.height ? encoded : null;
    const bitrate = bitrateFor(opts.quality ?? 'medium', codec, encoded.width, encoded.height, fps);
    const preset = opts.quality ?? 'medium';
    const { config, quantizer } = await chooseEncoderConfig({
      codec,
      width: encoded.width,
      height: encoded.height,
      fps,
      bitrate,
      quantizer: typeof preset === 'string' ? PRESET_QUANTIZER[codec][preset] : null,
    });
    const frameOptions = quantizer === null ? {} : quantizerOptions(codec, quantizer);

    const startUs = timing.timestampsUs[start]!;
    const lastUs = timing.timestampsUs[end - 1]!;
    const whole = start === 0 && end === total;
    const shiftUs = whole ? 0 : startUs;
    const endUs = end < total ? timing.timestampsUs[end]! : Infinity;
    const resumeAt = opts.resumeAt ?? start;
    if (resumeAt >= end) {
      throw new UpframeError(
        'INVALID_OPTION',
        `Option resumeAt is frame ${resumeAt}, but the video has ${total} frames.`,
      );
    }
    const resumeUs = timing.timestampsUs[resumeAt]!;
    const audioMux = input.audio?.muxCodec ?? null;
    const moreAudio = input.audioTracks.slice(1).flatMap((t) => (t.muxCodec ? [t.muxCodec] : []));
    // (MKV, which keeps subtitles, cannot store a rotation)
    const subtitled = !opts.part && input.subtitleTracks.length > 0 && video.rotation === 0;
    const container = chooseContainer(opts.container, codec, audioMux, moreAudio, subtitled);
    // the earlier parts' audio ends at a packet boundary; half a millisecond absorbs the MP4
    // timescale's rounding without reaching back to the packet before
    const resumeAudioUs =
      opts.resumeAudioAtUs === undefined ? resumeUs : opts.resumeAudioAtUs + shiftUs - 500;
    const audioWindow = {
      fromUs: resumeAt > start ? resumeAudioUs : whole ? -Infinity : startUs,
      toUs: whole ? Infinity : endUs,
      shiftUs,
    };
    // a part has none: the join reads them from the source for the whole render; subtitles that
    // cannot be read are left out with a note, the render goes on
    let subtitles: SubtitleCopy[] = [];
    let subtitleNote: string | null = null;
    if (!opts.part && input.subtitleTracks.length > 0) {
      try {
        subtitles = await input.readSubtitles(rangeWindow(timing, start, end));
      } catch (err) {
        subtitleNote = unreadableSubtitles(err);
      }
    }
    mux = new MuxWriter(
      target,
      container,
      codec,
      video.rotation,
      input,
      audioWindow,
      opts.part,
      subtitles,
    );
    const warnings = [...input.warnings, ...mux.warnings];
    if (subtitleNote) warnings.push(subtitleNote);
    const leftOut = audioLeftOutNote(input.audioTracks, container);
    if (leftOut) warnings.push(leftOut);
    // (as the file shows it: turned, where its container stores the turn)
    const shownTurn = makeFormat(container).supportsVideoRotationMetadata ? video.rotation : 0;
    if (crop) warnings.push(cropNote(size, crop, shownTurn));
    await mux.start();

    const wake = new Wakeup();
    // every chunk out of the encoder, frame taken in, and write done is a sign of life
    const watch = new StallWatch(opts.stallLimitMs);
    let muxPending = 0;
    const writer = mux;
    encoder = new VideoEncoder({
      output: (chunk, meta) => {
        watch.progress();
        muxPending++;
        writer.addVideo(chunk, meta, shiftUs).then(
          () => {
            watch.progress();
            muxPending--;
            wake.notify();
          },
          (err: unknown) => {
            fail.error ??= err instanceof Error ? err : new Error(String(err));
            wake.notify();
          },
        );
      },
      error: (e) => {
        fail.error ??= new UpframeError(
          'ENCODER_FAILED',
          `The browser's ${CODEC_NAMES[codec]} encoder failed at ${encoded.width}x${encoded.height} ` +
            `(${e.message}). Try a smaller scale or another output codec.`,
          { cause: e },
        );
        wake.notify();
      },
    });
    encoder.addEventListener('dequeue', () => {
      watch.progress();
      wake.notify();
    });
    encoder.configure(config);
    const enc = encoder;

    const t = { decodeMs: 0, processMs: 0, encodeMs: 0 };
    const keyIntervalUs = (opts.keyframeIntervalSeconds ?? 2) * 1e6;
    let lastKeyUs = -Infinity;
    const framesBefore = resumeAt - start;
    let framesDone = framesBefore;
    const limitS = ((opts.stallLimitMs ?? STALL_LIMIT_MS) / 1000).toFixed(0);
    const outputStalled = (): UpframeError =>
      new UpframeError(
        'STALLED',
        enc.encodeQueueSize === 0 && muxPending > 0
          ? `Writing the enhanced file stopped: the disk took no data for ${limitS} s ` +
              `(at frame ${framesDone + 1}).`
          : `The browser's ${CODEC_NAMES[codec]} encoder stopped: nothing came out of it for ` +
              `${limitS} s (at frame ${framesDone + 1}).`,
      );
    const framesTotal = end - start;
    // one frame of warm-up for a temporal model when continuing a render
    const warmup = resumeAt > start && opts.process ? 1 : 0;
    const decodedFrames = sink.frames({
      range: { start: resumeAt - warmup, end },
      signal,
      maxQueuedFrames: 3,
      ...(opts.stallLimitMs !== undefined ? { stallLimitMs: opts.stallLimitMs } : {}),
    });
    frames = decodedFrames;
    // A source that cannot be read or decoded past some frame (a corrupt packet, a file that
    // ends early) ends the output there instead of discarding the frames already done.
    let brokenAt: UpframeError | null = null;
    let doneEndUs = resumeUs;
    // whether any frame of this render is one the stream marks as fields (or cannot say)
    let fieldsSeen = false;
    const encodable = new EncodableFrames();
    for (;;) {
      let t0 = performance.now();
      let next: Awaited<ReturnType<typeof decodedFrames.next>>;
      try {
        next = await decodedFrames.next();
      } catch (err) {
        if (
          framesDone > framesBefore &&
          err instanceof UpframeError &&
          err.code === 'CORRUPT_INPUT'
        ) {
          brokenAt = err;
          break;
        }
        throw err;
      }
      t.decodeMs += performance.now() - t0;
      if (next.done) break;
      const decoded = next.value;
      if (decoded.picture !== 'progressive') fieldsSeen = true;
      if (decoded.index < resumeAt) {
        try {
          t0 = performance.now();
          (await opts.process!(decoded.frame, decoded.index, decoded.picture)).close();
          t.processMs += performance.now() - t0;
        } finally {
          decoded.close();
        }
        continue;
      }
      const timestamp = decoded.timestampUs;
      // The decoder invents durations from its own guesses (on a VFR clip the last frame came out
      // five frames long); the container's presentation times are the truth.
      const i = decoded.index;
      const duration =
        i + 1 < total
          ? timing.timestampsUs[i + 1]! - timing.timestampsUs[i]!
          : video.packets.durationUs[timing.decodeIndex[i]!]!;
      let out: VideoFrame;
      try {
        if (signal?.aborted) throw canceled();
        if (opts.process) {
          t0 = performance.now();
          out = await opts.process(decoded.frame, decoded.index, decoded.picture);
          t.processMs += performance.now() - t0;
          if (out === decoded.frame) {
            throw new UpframeError(
              'INTERNAL',
              'Internal error: process() must return a new VideoFrame, not its input.',
            );
          }
        } else {
          out = decoded.detach();
        }
      } finally {
        decoded.close();
      }
      if (EncodableFrames.needs(out)) {
        // 10/12-bit, 4:2:2 or 4:4:4 without a model: the encoders take 8-bit 4:2:0
        const converted = await encodable.convert(out).finally(() => out.close());
        out = converted;
      }
      if (
        crop &&
        (out.visibleRect?.width !== crop.width || out.visibleRect.height !== crop.height)
      ) {
        // the same pixels without the odd column or row (no copy)
        const { x, y } = out.visibleRect ?? { x: 0, y: 0 };
        const visibleRect = { x, y, width: crop.width, height: crop.height };
        const even = new VideoFrame(out, {
          visibleRect,
          displayWidth: crop.width,
          displayHeight: crop.height,
        });
        out.close();
        out = even;
      }
      if (out.timestamp !== timestamp || out.duration !== duration) {
        // Timestamps are the source's, always: VFR stays VFR and audio stays in sync.
        const fixed = new VideoFrame(out, { timestamp, duration });
        out.close();
        out = fixed;
      }
      t0 = performance.now();
      try {
        await watch.guard(
          wake.until(
            () =>
              fail.error !== null ||
              signal?.aborted === true ||
              (enc.encodeQueueSize < MAX_ENCODE_QUEUE && muxPending < MAX_MUX_PENDING),
          ),
          outputStalled,
        );
        if (signal?.aborted) throw canceled();
        if (fail.error !== null) throw fail.error;
        const keyFrame = timestamp - lastKeyUs >= keyIntervalUs - 1000;
        if (keyFrame) lastKeyUs = timestamp;
        enc.encode(out, { keyFrame, ...frameOptions });
      } finally {
        out.close();
      }
      t.encodeMs += performance.now() - t0;
      framesDone++;
      doneEndUs = timestamp + duration;
      opts.onProgress?.({
        framesDone,
        framesTotal,
        framesThisRun: framesDone - framesBefore,
        ...t,
      });
    }
    const t0 = performance.now();
    await watch.guard(enc.flush(), outputStalled);
    await watch.guard(
      wake.until(() => fail.error !== null || muxPending === 0),
      outputStalled,
    );
    if (fail.error !== null) throw fail.error;
    if (signal?.aborted) throw canceled();
    // audio stops where the last frame ends when the video broke off early
    const written = (): number => target.bytesWritten;
    const writeStalled = (): UpframeError =>
      new UpframeError(
        'STALLED',
        `Writing the enhanced file stopped: the disk took no data for ${limitS} s (at its end).`,
      );
    await watch.guard(mux.finish(brokenAt ? doneEndUs - 1 : Infinity), writeStalled, written);
    // not watched: closing a file the person picked can copy it whole (Chromium's .crswap)
    await target.commit();
    t.encodeMs += performance.now() - t0;
    const lastDur = video.packets.durationUs[timing.decodeIndex[end - 1]!]!;
    if (brokenAt) {
      warnings.push(
        `${brokenAt.message} The enhanced file ends there: it has ${framesDone} of ` +
          `${framesTotal} frames (${((doneEndUs - startUs) / 1e6).toFixed(2)} s).`,
      );
    }
    return {
      frames: framesDone - framesBefore,
      durationSeconds: ((brokenAt ? doneEndUs : lastUs + lastDur) - resumeUs) / 1e6,
      bytes: target.bytesWritten,
      codec: config.codec,
      container,
      width: encoded.width,
      height: encoded.height,
      audioPacketsCopied: mux.audioPacketsCopied,
      audioTracks: mux.audioTracks,
      subtitleTracks: mux.subtitleTracks,
      // "may be interlaced" is no news when every picture rendered was marked a frame (Blu-ray
      // 1080p, x264 --fake-interlaced): the page's summary says nothing then either
      warnings: fieldsSeen ? warnings : warnings.filter((w) => w !== INTERLACED_NOTE),
      endedEarly: brokenAt !== null,
      ...t,
    };
  } catch (err) {
    // Stops the decoder and closes the frames it still holds. After a stall, what hangs (a
    // write, a read) may never settle: the clean-up is given a few seconds, then left behind.
    const stalled = err instanceof UpframeError && err.code === 'STALLED';
    // a read that hangs may still be pending in the kept reader: the next use opens afresh
    if (stalled) forgetInputs();
    const step = (work: Promise<unknown>): Promise<unknown> =>
      stalled ? settleWithin(work, Math.min(5000, opts.stallLimitMs ?? STALL_LIMIT_MS)) : work;
    await step(frames?.return(undefined).catch(() => undefined) ?? Promise.resolve());
    if (encoder && encoder.state !== 'closed') encoder.close();
    await step(mux?.cancel() ?? Promise.resolve());
    await step(target.abort(err));
    // a failing encoder rejects flush() and encode() with a bare DOMException; its error
    // callback has said what failed, in words (a cancel or an error of ours stays as it is)
    const encoderFailed =
      fail.error instanceof UpframeError && fail.error.code === 'ENCODER_FAILED';
    throw asUpframeError(encoderFailed && !(err instanceof UpframeError) ? fail.error : err);
  } finally {
    if (encoder && encoder.state !== 'closed') encoder.close();
    lease.release();
  }
}

function settleWithin(work: Promise<unknown>, ms: number): Promise<unknown> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)));
  return Promise.race([work.catch(() => undefined), late]).finally(() => clearTimeout(timer));
}

function asUpframeError(err: unknown): UpframeError {
  if (err instanceof UpframeError) return err;
  const info = toErrorInfo(err);
  return new UpframeError(info.code, info.message, { cause: err });
}
