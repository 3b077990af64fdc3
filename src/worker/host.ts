/// <reference lib="webworker" />
/**
 * The job worker's entry: one dispatcher with one try/catch. Everything heavy (demux, decode,
 * enhance, encode, mux) runs here so the page only draws.
 */
import { acquireGpu } from '../gpu/device.ts';
import { toErrorInfo } from '../shared/errors.ts';
import type { FromWorker, RequestInput, RequestOutput, RequestType, ToWorker } from './protocol.ts';

declare const self: DedicatedWorkerGlobalScope;

type Handlers = { [T in RequestType]: (input: RequestInput<T>) => Promise<RequestOutput<T>> };

const handlers: Handlers = {
  async 'gpu.probe'() {
    try {
      const { device, info } = await acquireGpu(self.navigator.gpu);
      device.destroy();
      return { available: true, info };
    } catch (err) {
      return { available: false, error: toErrorInfo(err) };
    }
  },
  ping(input) {
    return Promise.resolve({ echo: input.echo, at: Date.now() });
  },
};

function post(message: FromWorker, transfer: Transferable[] = []): void {
  self.postMessage(message, transfer);
}

self.addEventListener('message', (event: MessageEvent<ToWorker>) => {
  const request = event.data;
  void (async () => {
    try {
      const handler = handlers[request.type] as (input: unknown) => Promise<unknown>;
      const out = await handler(request.input);
      post({ kind: 'reply', id: request.id, ok: true, out });
    } catch (err) {
      post({ kind: 'reply', id: request.id, ok: false, error: toErrorInfo(err) });
    }
  })();
});
