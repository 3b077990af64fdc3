/// <reference lib="webworker" />
/**
 * A worker's side of the protocol: each request goes to its handler, each answer (or the error,
 * as ErrorInfo) back as a reply. Shared by the job worker and the probe worker.
 */
import { toErrorInfo, UpframeError } from '../shared/errors.ts';
import type { FromWorker, RequestInput, RequestOutput, RequestType, ToWorker } from './protocol.ts';

declare const self: DedicatedWorkerGlobalScope;

export type Reply<T extends RequestType> = { out: RequestOutput<T>; transfer?: Transferable[] };
export type Handlers<K extends RequestType = RequestType> = {
  [T in K]: (input: RequestInput<T>) => Promise<Reply<T>>;
};

export function post(message: FromWorker, transfer: Transferable[] = []): void {
  self.postMessage(message, transfer);
}

/** Answers requests with `handlers`; a request it has no handler for is an INTERNAL error. */
export function serve<K extends RequestType>(handlers: Handlers<K>): void {
  self.addEventListener('message', (event: MessageEvent<ToWorker>) => {
    const request = event.data;
    void (async () => {
      try {
        const handler = (handlers as Partial<Record<RequestType, unknown>>)[request.type] as
          ((input: unknown) => Promise<Reply<RequestType>>) | undefined;
        if (!handler) {
          throw new UpframeError(
            'INTERNAL',
            `Internal error: this worker has no "${request.type}".`,
          );
        }
        const { out, transfer } = await handler(request.input);
        post({ kind: 'reply', id: request.id, ok: true, out }, transfer);
      } catch (err) {
        post({ kind: 'reply', id: request.id, ok: false, error: toErrorInfo(err) });
      }
    })();
  });
}
