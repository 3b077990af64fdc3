/**
 * The part of VideoDecoder's contract that VideoFrameSink uses (configure, decode, flush, close,
 * decodeQueueSize, the `dequeue` event, errors through `init.error`), for the decoders the
 * project runs itself where WebCodecs has none (Motion JPEG, MPEG-1/MPEG-2 video). Packets are
 * decoded one after another in the order they came in; a subclass says how one is decoded.
 */

/** The VideoDecoder members VideoFrameSink uses. */
export interface FrameDecoder extends EventTarget {
  readonly state: CodecState;
  readonly decodeQueueSize: number;
  configure(config: VideoDecoderConfig): void;
  decode(chunk: EncodedVideoChunk): void;
  flush(): Promise<void>;
  close(): void;
}

export abstract class QueuedDecoder extends EventTarget implements FrameDecoder {
  private current: CodecState = 'unconfigured';
  private queued = 0;
  /** The packets decode one after another, in the order they came in. */
  private chain: Promise<void> = Promise.resolve();
  private failure: DOMException | null = null;
  /** The flushes waiting, which close() rejects at once as VideoDecoder's close does. */
  private readonly flushes = new Set<(reason: DOMException) => void>();

  constructor(protected readonly init: VideoDecoderInit) {
    super();
  }

  get state(): CodecState {
    return this.current;
  }

  get decodeQueueSize(): number {
    return this.queued;
  }

  /** Whether the decoder is configured and has not failed or closed. */
  protected get open(): boolean {
    return this.current === 'configured';
  }

  configure(config: VideoDecoderConfig): void {
    if (this.current === 'closed') {
      throw new DOMException('The decoder is closed.', 'InvalidStateError');
    }
    this.setUp(config);
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
    this.chain = this.chain.then(async () => {
      try {
        if (this.open) await this.attempt(() => this.packet(data, timestamp, duration));
      } finally {
        if (this.queued > 0) this.queued--;
        this.dispatchEvent(new Event('dequeue'));
      }
    });
  }

  flush(): Promise<void> {
    if (this.current !== 'configured') {
      return Promise.reject(
        new DOMException(`The decoder is ${this.current}.`, 'InvalidStateError'),
      );
    }
    return new Promise<void>((resolve, reject) => {
      this.flushes.add(reject);
      this.chain = this.chain.then(async () => {
        this.flushes.delete(reject);
        if (this.open) await this.attempt(() => this.drain());
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

  /** Takes a configuration (before the first packet, and again after a flush). */
  protected abstract setUp(config: VideoDecoderConfig): void;

  /** Decodes one packet, handing its frames (if any) to `init.output`. */
  protected abstract packet(
    data: Uint8Array<ArrayBuffer>,
    timestamp: number,
    duration: number | undefined,
  ): void | Promise<void>;

  /** Puts out what a flush must: frames held back. */
  protected drain(): void {}

  /** Lets go of what the decoder holds when it closes. */
  protected released(): void {}

  /** Words for an error a packet threw (its message by default). */
  protected describe(err: unknown): string {
    return err instanceof Error ? err.message : String(err);
  }

  private async attempt(work: () => void | Promise<void>): Promise<void> {
    try {
      await work();
    } catch (err) {
      if (!this.open) return;
      this.failure = new DOMException(this.describe(err), 'EncodingError');
      // as VideoDecoder: the error callback first, then the flushes waiting fail with it
      this.init.error(this.failure);
      this.shut(this.failure);
    }
  }

  /** Closes the decoder, rejecting the flushes waiting with `reason`. */
  private shut(reason: DOMException): void {
    if (this.current === 'closed') return;
    this.current = 'closed';
    this.queued = 0;
    this.released();
    for (const reject of this.flushes) reject(reason);
    this.flushes.clear();
  }
}
