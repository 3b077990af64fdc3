/**
 * A level-triggered wake-up: producers and consumers re-check their condition each time anything
 * changes (a decoder `dequeue` event, a frame taken, an error). No polling, no lost wake-ups.
 */
export class Wakeup {
  private waiters: (() => void)[] = [];

  notify(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const resolve of w) resolve();
  }

  /** Resolves at the next notify(). */
  next(): Promise<void> {
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  async until(condition: () => boolean): Promise<void> {
    while (!condition()) await this.next();
  }
}

/**
 * How long a decoder, an encoder or a write may go without any sign of life before the render
 * stops with STALLED: far beyond any real frame (a 4K AV1 frame decodes in well under a second on
 * a CPU), short enough that a person is not left watching a frozen progress bar.
 */
export const STALL_LIMIT_MS = 60_000;

/**
 * Fails a wait that sees nothing happen for `limitMs`. Only time the thread was awake and free
 * counts: the watch ticks every `tickMs`, and a tick that comes late (the computer slept, or a
 * model run held the thread) is not counted, so a slow machine or a long model run never trips
 * it. Anything that shows the other side is alive calls progress().
 */
export class StallWatch {
  private idleMs = 0;
  private readonly tickMs: number;

  constructor(
    readonly limitMs: number = STALL_LIMIT_MS,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.tickMs = Math.min(1000, Math.max(10, limitMs / 8));
  }

  progress(): void {
    this.idleMs = 0;
  }

  /**
   * Settles as `wait` does, or rejects with `stalled()` once it has idled `limitMs`. `alive`, when
   * given, is read at each tick: a new value is a sign of life (bytes written so far, say).
   */
  async guard<T>(wait: Promise<T>, stalled: () => Error, alive?: () => number): Promise<T> {
    this.idleMs = 0;
    let timer: ReturnType<typeof setInterval> | undefined;
    const watchdog = new Promise<never>((_, reject) => {
      let last = this.now();
      let seen = alive?.();
      timer = setInterval(() => {
        const now = this.now();
        const dt = now - last;
        last = now;
        const value = alive?.();
        if (value !== seen) {
          seen = value;
          this.idleMs = 0;
        } else if (dt <= this.tickMs * 3) this.idleMs += dt;
        if (this.idleMs >= this.limitMs) reject(stalled());
      }, this.tickMs);
    });
    try {
      return await Promise.race([wait, watchdog]);
    } finally {
      clearInterval(timer);
    }
  }
}
