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
