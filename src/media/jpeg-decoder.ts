/**
 * Motion JPEG (older digital cameras, webcams, capture cards): every frame is a JPEG picture.
 * Chromium's VideoDecoder does not take it, its ImageDecoder does: JpegFrameDecoder decodes each
 * packet with one and hands out VideoFrames through the part of VideoDecoder's interface that
 * VideoFrameSink uses (configure, decode, flush, close, decodeQueueSize, the `dequeue` event).
 *
 * Every JPEG frame is a key frame, so decode order is presentation order. Frames without
 * Huffman tables (webcams send them so, leaving ITU T.81's standard ones implied) decode as they
 * are: Chromium's JPEG decoder (libjpeg-turbo) falls back to the standard tables itself. The pictures come out
 * as RGB (BGRX in Chromium): the browser turns JFIF's full-range BT.601 YCbCr into RGB, and the
 * encoder side treats them as it treats any RGB frame.
 */
import { isMpegVideo, MpegVideoDecoder } from './mpeg-video-decoder.ts';

/**
 * The codec ids a Motion JPEG track has here: MOV sample entries 'jpeg' and 'mjpa' (MJPEG-A, a
 * JFIF picture a frame), and 'mjpeg' (Matroska's V_MJPEG, AVI's MJPG). MJPEG-B ('mjpb') is
 * not JFIF: no image decoder reads it.
 */
export function isMotionJpeg(codec: string): boolean {
  return codec === 'jpeg' || codec === 'mjpa' || codec === 'mjpeg';
}

/** Whether this browser decodes JPEG pictures where video is decoded (a worker or a page). */
export async function canDecodeJpeg(): Promise<boolean> {
  if (typeof ImageDecoder === 'undefined') return false;
  return ImageDecoder.isTypeSupported('image/jpeg').catch(() => false);
}

/** The VideoDecoder members VideoFrameSink uses. */
export interface FrameDecoder extends EventTarget {
  readonly state: CodecState;
  readonly decodeQueueSize: number;
  configure(config: VideoDecoderConfig): void;
  decode(chunk: EncodedVideoChunk): void;
  flush(): Promise<void>;
  close(): void;
}

/** A VideoDecoder, or our own for Motion JPEG and MPEG-1/MPEG-2 video. */
export function frameDecoder(codec: string, init: VideoDecoderInit): FrameDecoder {
  if (isMotionJpeg(codec)) return new JpegFrameDecoder(init);
  if (isMpegVideo(codec)) return new MpegVideoDecoder(init);
  return new VideoDecoder(init);
}

export class JpegFrameDecoder extends EventTarget implements FrameDecoder {
  private current: CodecState = 'unconfigured';
  private queued = 0;
  /** The pictures decode one after another, in the order they came in. */
  private chain: Promise<void> = Promise.resolve();
  private size: { readonly width: number; readonly height: number } | null = null;
  private failure: DOMException | null = null;
  /** The image decoder at work, which close() closes (that ends its decode). */
  private working: ImageDecoder | null = null;
  /** The last picture (a reference, not a copy), shown again for an empty packet. */
  private last: VideoFrame | null = null;
  /** The flushes waiting, which close() rejects at once as VideoDecoder's close does. */
  private readonly flushes = new Set<(reason: DOMException) => void>();

  constructor(private readonly init: VideoDecoderInit) {
    super();
  }

  get state(): CodecState {
    return this.current;
  }

  get decodeQueueSize(): number {
    return this.queued;
  }

  configure(config: VideoDecoderConfig): void {
    if (this.current === 'closed') {
      throw new DOMException('The decoder is closed.', 'InvalidStateError');
    }
    const { codedWidth: width, codedHeight: height } = config;
    this.size = width && height ? { width, height } : null;
    this.current = 'configured';
  }

  decode(chunk: EncodedVideoChunk): void {
    if (this.current !== 'configured') {
      throw new DOMException(`The decoder is ${this.current}.`, 'InvalidStateError');
    }
    const data = new Uint8Array(chunk.byteLength);
    chunk.copyTo(data);
    const { timestamp } = chunk;
    const duration = chunk.duration ?? undefined;
    this.queued++;
    this.chain = this.chain.then(() => this.picture(data, timestamp, duration));
  }

  flush(): Promise<void> {
    if (this.current !== 'configured') {
      return Promise.reject(
        new DOMException(`The decoder is ${this.current}.`, 'InvalidStateError'),
      );
    }
    return new Promise<void>((resolve, reject) => {
      this.flushes.add(reject);
      void this.chain.then(() => {
        this.flushes.delete(reject);
        if (this.failure) reject(this.failure);
        else if (this.current === 'closed') {
          reject(new DOMException('The decoder was closed.', 'AbortError'));
        } else resolve();
      });
    });
  }

  close(): void {
    this.shut(new DOMException('The decoder was closed.', 'AbortError'));
  }

  /** Closes the decoder, rejecting the flushes waiting with `reason`. */
  private shut(reason: DOMException): void {
    if (this.current === 'closed') return;
    this.current = 'closed';
    this.queued = 0;
    this.working?.close();
    this.last?.close();
    this.last = null;
    for (const reject of this.flushes) reject(reason);
    this.flushes.clear();
  }

  private async picture(
    data: Uint8Array<ArrayBuffer>,
    timestamp: number,
    duration?: number,
  ): Promise<void> {
    let decoder: ImageDecoder | null = null;
    let image: VideoFrame | null = null;
    try {
      if (this.current !== 'configured') return;
      if (data.length === 0) {
        // an empty packet is a dropped frame: the picture before it stays on screen
        if (!this.last) throw new Error('the first picture is empty');
        this.init.output(new VideoFrame(this.last, { timestamp, duration }));
        return;
      }
      decoder = new ImageDecoder({
        data,
        type: 'image/jpeg',
        colorSpaceConversion: 'none',
      });
      this.working = decoder;
      image = (await decoder.decode()).image;
      if (this.current !== 'configured') return;
      const { displayWidth: width, displayHeight: height } = image;
      if (this.size && (width !== this.size.width || height !== this.size.height)) {
        // MJPEG-A keeps the two fields of an interlaced frame as two pictures in one packet
        const fields = width === this.size.width && height * 2 === this.size.height;
        throw new Error(
          fields
            ? 'each frame is stored as two field pictures, which Upframe does not read'
            : `a picture is ${width}x${height} where the track says ${this.size.width}x${this.size.height}`,
        );
      }
      this.last?.close();
      this.last = new VideoFrame(image, { timestamp, duration });
      this.init.output(new VideoFrame(this.last, { timestamp, duration }));
    } catch (err) {
      if (this.current === 'configured') {
        const message = err instanceof Error ? err.message : String(err);
        this.failure = new DOMException(message, 'EncodingError');
        // as VideoDecoder: the error callback first, then the flushes waiting fail with it
        this.init.error(this.failure);
        this.shut(this.failure);
      }
    } finally {
      image?.close();
      decoder?.close();
      if (this.working === decoder) this.working = null;
      if (this.queued > 0) this.queued--;
      this.dispatchEvent(new Event('dequeue'));
    }
  }
}
