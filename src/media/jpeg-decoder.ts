/**
 * Motion JPEG (older digital cameras, webcams, capture cards): every frame is a JPEG picture.
 * Chromium's VideoDecoder does not take it, its ImageDecoder does: JpegFrameDecoder decodes each
 * packet with one and hands out VideoFrames through the part of VideoDecoder's interface that
 * VideoFrameSink uses (configure, decode, flush, close, decodeQueueSize, the `dequeue` event).
 *
 * Every JPEG frame is a key frame, so decode order is presentation order. The pictures come out
 * as RGB (BGRX in Chromium): the browser turns JFIF's full-range BT.601 YCbCr into RGB, and the
 * encoder side treats them as it treats any RGB frame.
 */

/** The codec ids a Motion JPEG track has here: a MOV sample entry 'jpeg', Matroska's V_MJPEG. */
export function isMotionJpeg(codec: string): boolean {
  return codec === 'jpeg' || codec === 'mjpeg';
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

/** A VideoDecoder, or for Motion JPEG a JpegFrameDecoder. */
export function frameDecoder(codec: string, init: VideoDecoderInit): FrameDecoder {
  return isMotionJpeg(codec) ? new JpegFrameDecoder(init) : new VideoDecoder(init);
}

export class JpegFrameDecoder extends EventTarget implements FrameDecoder {
  private current: CodecState = 'unconfigured';
  private queued = 0;
  /** The pictures decode one after another, in the order they came in. */
  private chain: Promise<void> = Promise.resolve();
  private size: { readonly width: number; readonly height: number } | null = null;
  private failure: DOMException | null = null;

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
    if (this.current === 'closed')
      throw new DOMException('The decoder is closed.', 'InvalidStateError');
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
    return this.chain.then(() => {
      if (this.failure) throw this.failure;
      if (this.current === 'closed') {
        throw new DOMException('The decoder was closed.', 'AbortError');
      }
    });
  }

  close(): void {
    this.current = 'closed';
  }

  private async picture(data: Uint8Array, timestamp: number, duration?: number): Promise<void> {
    let decoder: ImageDecoder | null = null;
    let image: VideoFrame | null = null;
    try {
      if (this.current !== 'configured') return;
      decoder = new ImageDecoder({ data, type: 'image/jpeg', colorSpaceConversion: 'none' });
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
      this.init.output(new VideoFrame(image, { timestamp, duration }));
    } catch (err) {
      if (this.current === 'configured') {
        const message = err instanceof Error ? err.message : String(err);
        this.failure = new DOMException(message, 'EncodingError');
        this.current = 'closed';
        this.init.error(this.failure);
      }
    } finally {
      image?.close();
      decoder?.close();
      this.queued--;
      this.dispatchEvent(new Event('dequeue'));
    }
  }
}
