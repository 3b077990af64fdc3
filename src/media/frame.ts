/**
 * DecodedFrame: the one owner of a decoded VideoFrame. Chromium's decoder stalls at about ten
 * unclosed frames, so ownership is explicit: close() exactly once (or `using`), or detach() to hand
 * the VideoFrame to code that closes it itself. A live count lets tests and benchmarks prove that
 * frames in flight stay bounded.
 */

import type { PictureScan } from '../shared/deinterlace-rows.ts';

let live = 0;
let peak = 0;

/** Development builds warn when a wrapper is garbage-collected while its frame is still open. */
const leakWatch: FinalizationRegistry<string> | null =
  import.meta.env.DEV && typeof FinalizationRegistry !== 'undefined'
    ? new FinalizationRegistry((what) => {
        console.warn(`Upframe: ${what} was garbage-collected without close(); frames leak.`);
      })
    : null;

export class DecodedFrame implements Disposable {
  private current: VideoFrame | null;

  constructor(
    frame: VideoFrame,
    /** Index among the shown frames of the source (presentation order). */
    readonly index: number,
    /** How the stream says this picture is shown (interlaced H.264), or null when it does not. */
    readonly picture: PictureScan | null = null,
  ) {
    this.current = frame;
    live++;
    peak = Math.max(peak, live);
    leakWatch?.register(this, `DecodedFrame #${index}`, this);
  }

  get frame(): VideoFrame {
    if (!this.current) throw new Error(`DecodedFrame #${this.index} was already closed`);
    return this.current;
  }

  get timestampUs(): number {
    return this.frame.timestamp;
  }

  get closed(): boolean {
    return this.current === null;
  }

  /** Gives up ownership: the caller must close the returned VideoFrame. */
  detach(): VideoFrame {
    const f = this.frame;
    this.release();
    return f;
  }

  close(): void {
    const f = this.current;
    if (!f) return;
    this.release();
    f.close();
  }

  [Symbol.dispose](): void {
    this.close();
  }

  private release(): void {
    this.current = null;
    live--;
    leakWatch?.unregister(this);
  }
}

/** Frames currently owned by a DecodedFrame (open, not detached). */
export function openFrameCount(): number {
  return live;
}

/** Highest openFrameCount() since the last reset. */
export function peakOpenFrameCount(): number {
  return peak;
}

export function resetPeakOpenFrameCount(): void {
  peak = live;
}
