/**
 * The ONLY module that imports onnxruntime-web (the native WebGPU build). It maps a backend to
 * execution providers, creates sessions on the job's own GPUDevice, and runs them one at a time
 * through an explicit queue (ORT sessions must not run concurrently on one device).
 */
import * as ort from 'onnxruntime-web/webgpu';
import { UpframeError } from '../shared/errors.ts';

export type Backend = 'webgpu' | 'wasm';
export type OrtTensor = ort.Tensor;

let configured = false;

function configure(): void {
  if (configured) return;
  configured = true;
  ort.env.logLevel = 'error';
  // threads need cross-origin isolation; without it ORT falls back to one thread by itself
  const cores = typeof navigator === 'undefined' ? 2 : navigator.hardwareConcurrency || 2;
  ort.env.wasm.numThreads = Math.max(1, Math.min(4, cores));
}

/** Serialises async work: each task starts after the previous one settled. */
export class RunQueue {
  private tail: Promise<unknown> = Promise.resolve();

  enqueue<T>(task: () => Promise<T>): Promise<T> {
    const next = this.tail.then(task, task);
    this.tail = next.catch(() => undefined);
    return next;
  }
}

export interface SessionOptions {
  readonly backend: Backend;
  /** Required for 'webgpu': ORT runs on this device so our WGSL buffers are valid in its runs. */
  readonly device?: GPUDevice;
  /** Fixes symbolic dimensions (e.g. {h: 64, w: 64}) so ORT can plan memory once. */
  readonly freeDimensions?: Readonly<Record<string, number>>;
  /** Name of the model for error messages. */
  readonly name: string;
}

export class Session {
  private constructor(
    private readonly session: ort.InferenceSession,
    readonly backend: Backend,
    private readonly queue: RunQueue,
  ) {}

  static async create(model: Uint8Array, options: SessionOptions, queue = new RunQueue()) {
    configure();
    if (options.backend === 'webgpu' && !options.device) {
      throw new UpframeError('INTERNAL', 'Internal error: a WebGPU session needs the job device.');
    }
    const executionProviders: ort.InferenceSession.ExecutionProviderConfig[] =
      options.backend === 'webgpu' ? [{ name: 'webgpu', device: options.device }] : ['wasm'];
    try {
      const session = await ort.InferenceSession.create(model, {
        executionProviders,
        graphOptimizationLevel: 'all',
        ...(options.freeDimensions
          ? { freeDimensionOverrides: { ...options.freeDimensions } }
          : {}),
        ...(options.backend === 'webgpu' ? { preferredOutputLocation: 'gpu-buffer' as const } : {}),
      });
      return new Session(session, options.backend, queue);
    } catch (err) {
      throw new UpframeError(
        'MODEL_LOAD_FAILED',
        `The model ${options.name} could not be prepared on ${options.backend}: ${err instanceof Error ? err.message : String(err)}`,
        { cause: err },
      );
    }
  }

  get inputNames(): readonly string[] {
    return this.session.inputNames;
  }

  get outputNames(): readonly string[] {
    return this.session.outputNames;
  }

  /**
   * Runs the model. With `fetches` holding pre-allocated GPU tensors, ORT writes into our buffers
   * and nothing is allocated per frame; the returned map is then only for CPU outputs.
   */
  run(
    feeds: Record<string, ort.Tensor>,
    fetches?: Record<string, ort.Tensor>,
  ): Promise<Record<string, ort.Tensor>> {
    return this.queue.enqueue(async () => {
      return fetches ? await this.session.run(feeds, fetches) : await this.session.run(feeds);
    });
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}

export function gpuTensor(buffer: GPUBuffer, dims: readonly number[]): ort.Tensor {
  return ort.Tensor.fromGpuBuffer(buffer, { dataType: 'float32', dims });
}

export function cpuTensor(data: Float32Array, dims: readonly number[]): ort.Tensor {
  return new ort.Tensor('float32', data, dims);
}

/** The float data of a CPU tensor (wasm backend outputs). */
export function tensorData(tensor: ort.Tensor): Float32Array {
  if (tensor.location !== 'cpu' || !(tensor.data instanceof Float32Array)) {
    throw new UpframeError('INTERNAL', 'Internal error: expected a float32 CPU tensor.');
  }
  return tensor.data;
}
