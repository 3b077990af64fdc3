/**
 * Output targets: where the muxed bytes go. mediabunny's StreamTarget writes positioned chunks
 * into a WritableStream and closes it when done — and also when canceled, which on a
 * FileSystemWritableFileStream would commit a half file. So mediabunny gets our own stream, and
 * only transcode decides between commit() (the file appears) and abort() (nothing appears).
 */
import type { StreamTargetChunk } from 'mediabunny';
import { diskFull } from '../shared/errors.ts';

export interface OutputTarget {
  /** A fresh stream of positioned writes for one Output. */
  open(): WritableStream<StreamTargetChunk>;
  /** Makes what was written final. */
  commit(): Promise<void>;
  /** Discards what was written; safe to call more than once and after failures. */
  abort(reason?: unknown): Promise<void>;
  /** Size of the written file so far (highest written end). */
  readonly bytesWritten: number;
}

abstract class PositionedTarget implements OutputTarget {
  bytesWritten = 0;

  protected abstract writeAt(data: Uint8Array<ArrayBuffer>, position: number): Promise<void> | void;
  protected start(): Promise<void> | void {}
  abstract commit(): Promise<void>;
  abstract abort(reason?: unknown): Promise<void>;

  open(): WritableStream<StreamTargetChunk> {
    return new WritableStream<StreamTargetChunk>(
      {
        start: () => this.start(),
        write: async (chunk) => {
          await this.writeAt(chunk.data, chunk.position);
          this.bytesWritten = Math.max(this.bytesWritten, chunk.position + chunk.data.byteLength);
        },
        // Deliberately nothing on close: committing is transcode's call, not the muxer's.
        close: () => undefined,
      },
      // A few writes in flight at most: the muxer waits on `ready`, which is our backpressure.
      new CountQueuingStrategy({ highWaterMark: 4 }),
    );
  }
}

/** Small outputs and tests: the file in memory. */
export class MemoryTarget extends PositionedTarget {
  private buffer = new Uint8Array(64 * 1024);
  private committed = false;

  protected writeAt(data: Uint8Array<ArrayBuffer>, position: number): void {
    const end = position + data.byteLength;
    if (end > this.buffer.byteLength) {
      const grown = new Uint8Array(Math.max(end, this.buffer.byteLength * 2));
      grown.set(this.buffer.subarray(0, this.bytesWritten));
      this.buffer = grown;
    }
    this.buffer.set(data, position);
  }

  commit(): Promise<void> {
    this.committed = true;
    return Promise.resolve();
  }

  abort(): Promise<void> {
    this.buffer = new Uint8Array(0);
    this.bytesWritten = 0;
    return Promise.resolve();
  }

  /** The finished file; throws if the output was not committed. */
  bytes(): Uint8Array<ArrayBuffer> {
    if (!this.committed) throw new Error('MemoryTarget: the output was not finished');
    return this.buffer.slice(0, this.bytesWritten);
  }
}

/**
 * A file the person chose (showSaveFilePicker on the main thread, the writable stream transferred
 * to the worker). Chromium writes to a swap file and replaces the real file only on close(), so
 * abort() leaves the previous file (or nothing) in place.
 */
export class FileStreamTarget extends PositionedTarget {
  private done = false;

  constructor(private readonly stream: FileSystemWritableFileStream) {
    super();
  }

  protected writeAt(data: Uint8Array<ArrayBuffer>, position: number): Promise<void> {
    return this.stream.write({ type: 'write', position, data });
  }

  async commit(): Promise<void> {
    this.done = true;
    await this.stream.close();
  }

  async abort(reason?: unknown): Promise<void> {
    if (this.done) return;
    this.done = true;
    await this.stream.abort(reason).catch(() => undefined);
  }
}

interface SyncAccessHandle {
  write(data: Uint8Array, options: { at: number }): number;
  truncate(size: number): void;
  flush(): void;
  close(): void;
}

/** A file in the origin-private file system, written synchronously from the worker. */
export class OpfsTarget extends PositionedTarget {
  private access: SyncAccessHandle | null = null;
  private done = false;

  constructor(private readonly handle: FileSystemFileHandle) {
    super();
  }

  protected override async start(): Promise<void> {
    const h = this.handle as FileSystemFileHandle & {
      createSyncAccessHandle(): Promise<SyncAccessHandle>;
    };
    this.access = await h.createSyncAccessHandle();
    this.access.truncate(0);
  }

  protected writeAt(data: Uint8Array<ArrayBuffer>, position: number): void {
    let at = position;
    let rest = data;
    // write() may write less than asked; loop until all of it is down.
    while (rest.byteLength > 0) {
      const n = this.access!.write(rest, { at });
      // Chromium (156) does not throw when the origin's quota or the disk is full: write()
      // returns the error code as an unsigned number (4294967288 for "no space") after writing
      // part of the data, or nothing. Either way the file is short: stop here.
      if (!(n > 0 && n <= rest.byteLength)) throw diskFull();
      at += n;
      rest = rest.subarray(n);
    }
  }

  commit(): Promise<void> {
    this.done = true;
    this.access?.flush();
    this.access?.close();
    this.access = null;
    return Promise.resolve();
  }

  /** Closes the file with what was written in it (a render part that failed keeps its frames). */
  protected keep(): Promise<void> {
    if (this.done) return Promise.resolve();
    this.done = true;
    this.access?.flush();
    this.access?.close();
    this.access = null;
    return Promise.resolve();
  }

  async abort(): Promise<void> {
    if (this.done) return;
    this.done = true;
    if (this.access) {
      this.access.truncate(0);
      this.access.close();
      this.access = null;
    }
    const removable = this.handle as FileSystemFileHandle & { remove?: () => Promise<void> };
    await removable.remove?.().catch(() => undefined);
  }
}
