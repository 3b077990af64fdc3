/**
 * MPEG-1 and MPEG-2 video (DVDs, VCDs, television recordings, HDV and older camcorders):
 * Chromium's WebCodecs decodes neither, so `MpegVideoDecoder` runs our own decoder
 * (mpeg2/decoder.ts) behind the part of VideoDecoder's interface that VideoFrameSink uses, and
 * hands out I420 VideoFrames in display order with the timestamps of the packets they were coded
 * in, as VideoDecoder does.
 *
 * Decoding is synchronous work on the calling thread (a worker during a render), one picture a
 * task: between pictures the thread takes its other work, and `dequeue` fires after each.
 */
import { QueuedDecoder } from './queued-decoder.ts';
import { Mpeg2Decoder, UnsupportedStream } from './mpeg2/decoder.ts';
import type { FrameBuffer } from './mpeg2/slice.ts';
import { colorSpaceFromCodes } from './codecs.ts';
import { mayHoldFields, sequenceFacts } from './mpeg2/stream-facts.ts';
import { guessColorSpace } from './stream-colour.ts';

/** The codec ids of MPEG video here (VideoTrackInfo.codec). */
export function isMpegVideo(codec: string): boolean {
  return codec === 'mpeg2' || codec === 'mpeg1';
}

/** Whether MPEG video's first sequence header (its config's description) allows fields. */
export function mpegFields(video: { readonly decoderConfig: VideoDecoderConfig }): boolean {
  const { codec, description } = video.decoderConfig;
  if (!isMpegVideo(codec) || !description) return false;
  const seq = sequenceFacts(bytesOf(description));
  return seq !== null && mayHoldFields(seq);
}

/**
 * Why our decoder cannot read this MPEG video, in words, or null when it can (or when there is no
 * sequence header to tell): 4:2:2 and 4:4:4 (XDCAM HD422, IMX, studio masters), pictures
 * taller than 2800 lines.
 */
export function mpegUnreadable(config: VideoDecoderConfig): string | null {
  if (!isMpegVideo(config.codec) || !config.description) return null;
  const seq = sequenceFacts(bytesOf(config.description));
  if (!seq) return null;
  if (seq.chromaFormat !== 1) {
    return `its colour is ${seq.chromaFormat === 2 ? '4:2:2' : '4:4:4'} (a studio format), and Upframe reads 4:2:0 MPEG video only`;
  }
  return seq.height > 2800 ? `its pictures are ${seq.height} lines tall` : null;
}

/** Lets the thread take other tasks, without setTimeout's 4 ms clamp when nested. */
function nextTask(): Promise<void> {
  return new Promise((resolve) => {
    const channel = new MessageChannel();
    channel.port1.onmessage = () => {
      channel.port1.close();
      resolve();
    };
    channel.port2.postMessage(null);
  });
}

function bytesOf(d: AllowSharedBufferSource): Uint8Array {
  return ArrayBuffer.isView(d)
    ? new Uint8Array(d.buffer, d.byteOffset, d.byteLength)
    : new Uint8Array(d);
}

export class MpegVideoDecoder extends QueuedDecoder {
  private readonly core = new Mpeg2Decoder((frame) => this.output(frame));
  private colour: VideoColorSpaceInit | null = null;

  protected setUp(config: VideoDecoderConfig): void {
    this.colour = config.colorSpace ?? null;
    this.core.configure(config.description ? bytesOf(config.description) : undefined);
  }

  protected async packet(data: Uint8Array, timestamp: number, duration?: number): Promise<void> {
    // one picture a task: between pictures the thread takes its other work
    await nextTask();
    if (this.open) this.core.decode(data, timestamp, duration ?? 0);
  }

  protected override drain(): void {
    this.core.flush();
  }

  protected override describe(err: unknown): string {
    return err instanceof UnsupportedStream
      ? `this stream uses ${err.message}, which Upframe's MPEG decoder does not read`
      : super.describe(err);
  }

  private output(frame: FrameBuffer): void {
    if (!this.open) return;
    const { visibleWidth: width, visibleHeight: height } = frame;
    const stated = this.core.colour;
    const colorSpace =
      this.colour ??
      (stated && colorSpaceFromCodes(stated.primaries, stated.transfer, stated.matrix, false)) ??
      guessColorSpace(width, height);
    this.init.output(
      new VideoFrame(frame.data, {
        format: 'I420',
        codedWidth: frame.width,
        codedHeight: frame.height,
        visibleRect: { x: 0, y: 0, width: width & ~1, height: height & ~1 },
        timestamp: frame.timestamp,
        duration: frame.duration || undefined,
        colorSpace: { ...guessColorSpace(width, height), ...colorSpace },
      }),
    );
  }
}
