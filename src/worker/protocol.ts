/**
 * The typed contract between the page and the job worker. Types only: one table maps each request
 * type to its input and output; replies are `{ id, ok: true, out }` or `{ id, ok: false, error }`.
 * Progress and preview are their own message kinds, not replies.
 */
import type { GpuInfo } from '../gpu/device.ts';
import type { ErrorInfo } from '../shared/errors.ts';

export type Backend = 'webgpu' | 'wasm';

export interface GpuStatus {
  readonly available: boolean;
  readonly info?: GpuInfo;
  readonly error?: ErrorInfo;
}

export interface RequestTable {
  'gpu.probe': { input: Record<string, never>; output: GpuStatus };
  ping: { input: { echo: string }; output: { echo: string; at: number } };
}

export type RequestType = keyof RequestTable;
export type RequestInput<T extends RequestType> = RequestTable[T]['input'];
export type RequestOutput<T extends RequestType> = RequestTable[T]['output'];

export type WorkerRequest = {
  [T in RequestType]: {
    readonly kind: 'request';
    readonly id: number;
    readonly type: T;
    readonly input: RequestInput<T>;
  };
}[RequestType];

export type WorkerReply =
  | { readonly kind: 'reply'; readonly id: number; readonly ok: true; readonly out: unknown }
  | { readonly kind: 'reply'; readonly id: number; readonly ok: false; readonly error: ErrorInfo };

export interface ProgressEvent {
  readonly kind: 'progress';
  readonly jobId: number;
  readonly framesDone: number;
  readonly framesTotal: number;
  readonly fps: number;
}

export type WorkerEvent = ProgressEvent;

export type FromWorker = WorkerReply | WorkerEvent;
export type ToWorker = WorkerRequest;
