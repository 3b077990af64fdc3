import { describe, expect, it } from 'vitest';
import { UpframeError } from '../shared/errors.ts';
import { WorkerClient, type WorkerLike } from './client.ts';
import type { FromWorker, ToWorker, WorkerEvent } from './protocol.ts';

/** An in-memory worker that answers like host.ts does, so the client's routing is tested. */
function fakeWorker(answer: (msg: ToWorker) => FromWorker[]): WorkerLike & { sent: ToWorker[] } {
  let onMessage: ((event: MessageEvent<FromWorker>) => void) | undefined;
  const sent: ToWorker[] = [];
  return {
    sent,
    postMessage(message: ToWorker) {
      sent.push(message);
      queueMicrotask(() => {
        for (const reply of answer(message))
          onMessage?.({ data: reply } as MessageEvent<FromWorker>);
      });
    },
    addEventListener(type: string, listener: unknown) {
      if (type === 'message') onMessage = listener as (event: MessageEvent<FromWorker>) => void;
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
