/**
 * The page side of the worker protocol: `call(type, input)` returns a typed promise; events
 * (progress, preview) go to subscribers.
 */
import { fromErrorInfo, UpframeError, type ErrorInfo } from '../shared/errors.ts';
import type {
  FromWorker,
  SourceSummary,
  RequestInput,
  RequestOutput,
  RequestType,
  ToWorker,
  WorkerEvent,
} from './protocol.ts';

export interface WorkerLike {
  postMessage(message: ToWorker, transfer?: Transferable[]): void;
  addEventListener(type: 'message', listener: (event: MessageEvent<FromWorker>) => void): void;
  addEventListener(type: 'error', listener: (event: ErrorEvent) => void): void;
  terminate(): void;
}

interface Pending {
  resolve: (value: unknown) => void;
  reject: (reason: unknown) => void;
}

export class WorkerClient {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly listeners = new Set<(event: WorkerEvent) => void>();

  constructor(
    private readonly worker: WorkerLike,
    private readonly onError: (error: ErrorInfo) => void = () => {},
    /** What the person is told the worker is, when it fails or is stopped. */
    private readonly name = 'job worker',
  ) {
    worker.addEventListener('message', (event: MessageEvent<FromWorker>) => {
      this.receive(event.data);
    });
    worker.addEventListener('error', (event: ErrorEvent) => {
      const error = new Error(`The ${this.name} failed: ${event.message || 'unknown error'}`);
      for (const p of this.pending.values()) p.reject(error);
      this.pending.clear();
    });
  }

  call<T extends RequestType>(
    type: T,
    input: RequestInput<T>,
    transfer: Transferable[] = [],
  ): Promise<RequestOutput<T>> {
    const id = this.nextId++;
    return new Promise<RequestOutput<T>>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
      this.worker.postMessage({ kind: 'request', id, type, input } as ToWorker, transfer);
    });
  }

  subscribe(listener: (event: WorkerEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  terminate(): void {
    this.worker.terminate();
    for (const p of this.pending.values()) p.reject(new Error(`The ${this.name} was stopped.`));
    this.pending.clear();
  }

  private receive(message: FromWorker): void {
    if (message.kind === 'reply') {
      const pending = this.pending.get(message.id);
      if (!pending) return;
      this.pending.delete(message.id);
      if (message.ok) pending.resolve(message.out);
      else {
        pending.reject(fromErrorInfo(message.error));
        this.onError(message.error);
      }
      return;
    }
    for (const listener of this.listeners) listener(message);
  }
}

let shared: WorkerClient | undefined;
/** The page's event listeners: every job worker gets them, the replacements too. */
const pageListeners = new Set<(event: WorkerEvent) => void>();

/**
 * The page's one job worker, started on first use. After a GPU loss the worker is replaced: ORT
 * cannot move to a new device, but a fresh worker gets a fresh device and a fresh ORT.
 */
export function jobWorker(): WorkerClient {
  if (!shared) {
    const client = new WorkerClient(
      new Worker(new URL('./host.ts', import.meta.url), { type: 'module', name: 'upframe-job' }),
      (error) => {
        if (error.code !== 'DEVICE_LOST' || shared !== client) return;
        client.terminate();
        shared = undefined;
      },
    );
    for (const listener of pageListeners) client.subscribe(listener);
    shared = client;
  }
  return shared;
}

/** Subscribes to the events of the job worker and of every worker that later replaces it. */
export function subscribeJobWorker(listener: (event: WorkerEvent) => void): void {
  pageListeners.add(listener);
  shared?.subscribe(listener);
}

let probing: WorkerClient | undefined;

/** The page's probe worker (probe-host.ts), started on first use and after a stuck probe. */
function probeWorker(): WorkerClient {
  probing ??= new WorkerClient(
    new Worker(new URL('./probe-host.ts', import.meta.url), {
      type: 'module',
      name: 'upframe-probe',
    }),
    () => {},
    'probe worker',
  );
  return probing;
}

/** How a probe is watched: a ping every `pingMs`; no answer for `silenceMs` means stuck. */
export interface ProbeWatch {
  readonly pingMs: number;
  readonly silenceMs: number;
}

const PROBE_WATCH: ProbeWatch = { pingMs: 2_000, silenceMs: 20_000 };

/**
 * What a clip holds, read in the probe worker. Reading may take long (a Matroska file without an
 * index is walked cluster by cluster) but the worker keeps answering pings while it reads; one
 * that stops answering is stuck in a loop: it is stopped (a new one starts for the next clip,
 * and no render is touched) and the probe fails with CORRUPT_INPUT.
 */
export function probeSource(
  file: File,
  watch: ProbeWatch = PROBE_WATCH,
  worker: () => WorkerClient = probeWorker,
): Promise<SourceSummary> {
  const client = worker();
  return new Promise<SourceSummary>((resolve, reject) => {
    let heard = Date.now();
    const timer = setInterval(() => {
      if (Date.now() - heard > watch.silenceMs) {
        clearInterval(timer);
        reject(
          new UpframeError(
            'CORRUPT_INPUT',
            `Upframe stopped reading "${file.name}": it made no progress for ${Math.round(watch.silenceMs / 1000)} s. The file may be damaged; if it plays elsewhere, please report it.`,
          ),
        );
        if (probing === client) probing = undefined;
        client.terminate();
        return;
      }
      client.call('ping', { echo: 'probe' }).then(
        () => (heard = Date.now()),
        () => undefined,
      );
    }, watch.pingMs);
    client.call('source.probe', { file }).then(
      (summary) => {
        clearInterval(timer);
        resolve(summary);
      },
      (err: unknown) => {
        clearInterval(timer);
        // a file's error is the file's; any other (the worker itself failed) retires the worker
        if (!(err instanceof UpframeError)) {
          if (probing === client) probing = undefined;
          client.terminate();
        }
        reject(err instanceof Error ? err : new Error(String(err)));
      },
    );
  });
}
