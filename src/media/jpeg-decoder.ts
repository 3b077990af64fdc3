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
import { QueuedDecoder, type FrameDecoder } from './queued-decoder.ts';

export type { FrameDecoder };

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

/** A VideoDecoder, or our own for Motion JPEG and MPEG-1/MPEG-2 video. */
export function frameDecoder(codec: string, init: VideoDecoderInit): FrameDecoder {
  if (isMotionJpeg(codec)) return new JpegFrameDecoder(init);
  if (isMpegVideo(codec)) return new MpegVideoDecoder(init);
  return new VideoDecoder(init);
}

export class JpegFrameDecoder extends QueuedDecoder {
  private size: { readonly width: number; readonly height: number } | null = null;
  /** The image decoder at work, which close() closes (that ends its decode). */
  private working: ImageDecoder | null = null;
  /** The last picture (a reference, not a copy), shown again for an empty packet. */
  private last: VideoFrame | null = null;

  protected setUp(config: VideoDecoderConfig): void {
    const { codedWidth: width, codedHeight: height } = config;
    this.size = width && height ? { width, height } : null;
  }

  protected override released(): void {
    this.working?.close();
    this.last?.close();
    this.last = null;
  }

  protected async packet(
    data: Uint8Array<ArrayBuffer>,
    timestamp: number,
    duration?: number,
  ): Promise<void> {
    let decoder: ImageDecoder | null = null;
    let image: VideoFrame | null = null;
    try {
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
      if (!this.open) return;
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
    } finally {
      image?.close();
      decoder?.close();
      if (this.working === decoder) this.working = null;
    }
  }
}
