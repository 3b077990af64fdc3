import { describe, expect, it } from 'vitest';
import { UpframeError } from '../shared/errors.ts';
import { probeSource, WorkerClient, type WorkerLike } from './client.ts';
import type { FromWorker, SourceSummary, ToWorker, WorkerEvent } from './protocol.ts';

/** An in-memory worker that answers like host.ts does, so the client's routing is tested. */
function fakeWorker(
  answer: (msg: ToWorker) => FromWorker[],
): WorkerLike & { sent: ToWorker[]; deliver(message: FromWorker): void; fail(why: string): void } {
  let onMessage: ((event: MessageEvent<FromWorker>) => void) | undefined;
  let onError: ((event: ErrorEvent) => void) | undefined;
  const sent: ToWorker[] = [];
  return {
    sent,
    /** A message from the worker at a time of the test's choosing. */
    deliver(message: FromWorker) {
      onMessage?.({ data: message } as MessageEvent<FromWorker>);
    },
    /** The worker itself fails (its script, or out of memory), as an 'error' event. */
    fail(why: string) {
      onError?.({ message: why } as ErrorEvent);
    },
    postMessage(message: ToWorker) {
      sent.push(message);
      queueMicrotask(() => {
        for (const reply of answer(message))
          onMessage?.({ data: reply } as MessageEvent<FromWorker>);
      });
    },
    addEventListener(type: string, listener: unknown) {
      if (type === 'message') onMessage = listener as (event: MessageEvent<FromWorker>) => void;
      if (type === 'error') onError = listener as (event: ErrorEvent) => void;
    },
    terminate() {},
  };
}

describe('WorkerClient', () => {
  it('matches replies to requests by id, even out of order', async () => {
    const held: ToWorker[] = [];
    let release: (() => void) | undefined;
    const worker = fakeWorker((msg) => {
      held.push(msg);
      if (held.length < 2) return [];
      release?.();
      // answer the second request first
      return [...held].reverse().map((m) => ({
        kind: 'reply' as const,
        id: m.id,
        ok: true as const,
        out: { echo: (m.input as { echo: string }).echo, at: m.id },
      }));
    });
    const client = new WorkerClient(worker);
    const a = client.call('ping', { echo: 'a' });
    const b = client.call('ping', { echo: 'b' });
    expect((await a).echo).toBe('a');
    expect((await b).echo).toBe('b');
    expect(worker.sent.map((m) => m.id)).toEqual([1, 2]);
  });

  it('rejects with an UpframeError that keeps the code, and reports it', async () => {
    const seen: string[] = [];
    const client = new WorkerClient(
      fakeWorker((m) => [
        { kind: 'reply', id: m.id, ok: false, error: { code: 'DEVICE_LOST', message: 'gone' } },
      ]),
      (error) => seen.push(error.code),
    );
    const err = await client.call('ping', { echo: 'x' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UpframeError);
    expect((err as UpframeError).code).toBe('DEVICE_LOST');
    expect(seen).toEqual(['DEVICE_LOST']);
  });

  it('delivers events to subscribers and stops after unsubscribe', async () => {
    const event: WorkerEvent = {
      kind: 'job-progress',
      jobId: 1,
      framesDone: 3,
      framesTotal: 9,
      fps: 2,
      paused: false,
      decodeMs: 1,
      processMs: 2,
      encodeMs: 3,
    };
    const client = new WorkerClient(
      fakeWorker((m) => [event, { kind: 'reply', id: m.id, ok: true, out: { echo: '', at: 0 } }]),
    );
    const seen: WorkerEvent[] = [];
    const off = client.subscribe((e) => seen.push(e));
    await client.call('ping', { echo: '' });
    off();
    await client.call('ping', { echo: '' });
    expect(seen).toEqual([event]);
  });
});

describe('probeSource', () => {
  const watch = { pingMs: 10, silenceMs: 80 };
  const file = new File([new Uint8Array(16)], 'clip.mp4');
  const summary = { container: 'mp4' } as unknown as SourceSummary;

  /** A probe worker that answers pings as they come (or not) and the probe after `probeAfterMs`. */
  function probeWorker(opts: { pings: boolean; probeAfterMs: number | null }) {
    let terminated = false;
    const worker = fakeWorker((m) => {
      if (m.type === 'ping') {
        return opts.pings
          ? [{ kind: 'reply', id: m.id, ok: true, out: { echo: 'probe', at: 0 } }]
          : [];
      }
      if (opts.probeAfterMs !== null) {
        setTimeout(() => {
          if (!terminated) worker.deliver({ kind: 'reply', id: m.id, ok: true, out: summary });
        }, opts.probeAfterMs);
      }
      return [];
    });
    worker.terminate = () => {
      terminated = true;
    };
    return { client: new WorkerClient(worker), terminated: () => terminated };
  }

  it('waits for a long read as long as the worker answers its pings', async () => {
    // the read takes three times the silence limit
    const w = probeWorker({ pings: true, probeAfterMs: 3 * watch.silenceMs });
    await expect(probeSource(file, watch, () => w.client)).resolves.toBe(summary);
    expect(w.terminated()).toBe(false);
  });

  it("keeps the worker after a file's own error, retires it after its own failure", async () => {
    const failing = (error: FromWorker | 'crash') => {
      let terminated = false;
      const worker = fakeWorker((m) =>
        m.type === 'source.probe' && error !== 'crash'
          ? [{ ...error, id: m.id } as FromWorker]
          : [],
      );
      worker.terminate = () => {
        terminated = true;
      };
      if (error === 'crash') setTimeout(() => worker.fail('out of memory'), 5);
      return {
        client: new WorkerClient(worker, () => {}, 'probe worker'),
        terminated: () => terminated,
      };
    };
    const bad = failing({
      kind: 'reply',
      id: 0,
      ok: false,
      error: { code: 'UNSUPPORTED_CONTAINER', message: 'not a video' },
    });
    const own = await probeSource(file, watch, () => bad.client).catch((e: unknown) => e);
    expect((own as UpframeError).code).toBe('UNSUPPORTED_CONTAINER');
    expect(bad.terminated()).toBe(false);
    const crashed = failing('crash');
    const failure = await probeSource(file, watch, () => crashed.client).catch((e: unknown) => e);
    expect((failure as Error).message).toBe('The probe worker failed: out of memory');
    expect(crashed.terminated()).toBe(true);
  });

  it('stops a worker that stops answering and says so, with the file named', async () => {
    const w = probeWorker({ pings: false, probeAfterMs: null });
    const err = await probeSource(file, watch, () => w.client).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UpframeError);
    expect((err as UpframeError).code).toBe('CORRUPT_INPUT');
    expect((err as UpframeError).message).toContain('Upframe stopped reading "clip.mp4"');
    expect(w.terminated()).toBe(true);
  });
});
