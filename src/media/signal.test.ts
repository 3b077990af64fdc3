import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { StallWatch } from './signal.ts';

/** A clock the test moves: ticks come from fake timers, and a "blocked thread" jumps it. */
function fakeClock(): { now: () => number; jump: (ms: number) => void } {
  let skew = 0;
  return { now: () => Date.now() + skew, jump: (ms) => (skew += ms) };
}

function outcome(p: Promise<unknown>): { state: string; error?: Error } {
  const o: { state: string; error?: Error } = { state: 'pending' };
  p.then(
    () => (o.state = 'resolved'),
    (e: Error) => {
      o.state = 'rejected';
      o.error = e;
    },
  );
  return o;
}

describe('StallWatch', () => {
  beforeEach(() => void vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval', 'Date'] }));
  afterEach(() => void vi.useRealTimers());

  it('fails a wait that sees nothing happen for its limit, with the caller’s error', async () => {
    const clock = fakeClock();
    const watch = new StallWatch(8000, clock.now);
    const never = new Promise<void>(() => undefined);
    const o = outcome(watch.guard(never, () => new Error('decoder stopped')));
    await vi.advanceTimersByTimeAsync(7000);
    expect(o.state).toBe('pending');
    await vi.advanceTimersByTimeAsync(1500);
    expect(o.state).toBe('rejected');
    expect(o.error?.message).toBe('decoder stopped');
    expect(vi.getTimerCount()).toBe(0);
  });

  it('a sign of life restarts the count; a wait that settles clears its timer', async () => {
    const clock = fakeClock();
    const watch = new StallWatch(8000, clock.now);
    let done!: () => void;
    const slow = new Promise<void>((r) => (done = r));
    const o = outcome(watch.guard(slow, () => new Error('stalled')));
    for (let i = 0; i < 5; i++) {
      await vi.advanceTimersByTimeAsync(6000);
      watch.progress();
    }
    expect(o.state).toBe('pending');
    done();
    await vi.advanceTimersByTimeAsync(0);
    expect(o.state).toBe('resolved');
    expect(vi.getTimerCount()).toBe(0);
  });

  it('time the thread was held (a model run, a sleeping laptop) does not count', async () => {
    const clock = fakeClock();
    const watch = new StallWatch(8000, clock.now);
    const o = outcome(watch.guard(new Promise<void>(() => undefined), () => new Error('stalled')));
    // each second the thread is held for a minute: ticks arrive late and are not counted
    for (let i = 0; i < 20; i++) {
      clock.jump(60_000);
      await vi.advanceTimersByTimeAsync(1000);
    }
    expect(o.state).toBe('pending');
    // free again: the limit counts from here
    await vi.advanceTimersByTimeAsync(9000);
    expect(o.state).toBe('rejected');
  });

  it('passes on the wait’s own result and error', async () => {
    const watch = new StallWatch(8000, fakeClock().now);
    await expect(watch.guard(Promise.resolve(7), () => new Error('x'))).resolves.toBe(7);
    await expect(
      watch.guard(Promise.reject(new Error('own')), () => new Error('x')),
    ).rejects.toThrow('own');
  });
});
