/**
 * A pack's SpyNet as a FlowProvider (src/kernels/flow/flow.ts): the graph runs through an ORT
 * WebGPU session on the job's device, reading the caller's frame buffers and writing its flow
 * buffer directly (no copies, no readback).
 *
 * Unlike the WGSL flow, this provider records nothing into the caller's encoder: ORT submits its
 * own command buffers on the device queue. So whatever wrote `current` / `previous` must already
 * be SUBMITTED when `encode` is called (an unsubmitted encoder would run after SpyNet read stale
 * frames), and work that reads `out` may be recorded into `encoder` or any later one: queue order
 * puts it after ORT's writes, and ORT flushes its work before `run` resolves.
 */
import type { FlowProvider } from '../kernels/flow/flow.ts';
import { UpframeError } from '../shared/errors.ts';
import type { DloralGraph } from './dloral-pack.ts';
import { gpuTensor, type OrtTensor, type Session } from './ort.ts';

export class SpynetFlow implements FlowProvider {
  private readonly inputs = new Map<GPUBuffer, OrtTensor>();
  private readonly outputs = new Map<GPUBuffer, OrtTensor>();
  private readonly names: { current: string; previous: string; flow: string };

  /**
   * `session` must be a WebGPU session of `graph` (the manifest's `extra.dloral.spynet`) created
   * on the device that owns the buffers, with its free dimensions fixed at width x height.
   */
  constructor(
    private readonly session: Session,
    graph: DloralGraph,
    readonly width: number,
    readonly height: number,
  ) {
    if (session.backend !== 'webgpu') {
      throw new UpframeError('INTERNAL', 'Internal error: SpynetFlow needs a WebGPU session.');
    }
    const [current, previous] = graph.inputs;
    const [flow] = graph.outputs;
    if (!current || !previous || !flow) {
      throw new UpframeError(
        'MODEL_LOAD_FAILED',
        `${graph.path}: SpyNet needs two inputs (current, previous) and one output (flow).`,
      );
    }
    this.names = { current: current.name, previous: previous.name, flow: flow.name };
  }

  /** ORT tensors wrap the caller's buffers; the pipeline passes the same few every frame. */
  private tensor(cache: Map<GPUBuffer, OrtTensor>, buffer: GPUBuffer, channels: number) {
    let t = cache.get(buffer);
    if (!t) {
      t = gpuTensor(buffer, [1, channels, this.height, this.width]);
      cache.set(buffer, t);
    }
    return t;
  }

  /** How many buffers have a cached ORT tensor (tests check the steady state adds none). */
  get cachedTensors(): number {
    return this.inputs.size + this.outputs.size;
  }

  async encode(
    _encoder: GPUCommandEncoder,
    current: GPUBuffer,
    previous: GPUBuffer,
    out: GPUBuffer,
  ): Promise<void> {
    await this.session.run(
      {
        [this.names.current]: this.tensor(this.inputs, current, 3),
        [this.names.previous]: this.tensor(this.inputs, previous, 3),
      },
      { [this.names.flow]: this.tensor(this.outputs, out, 2) },
    );
  }

  /** Forgets the wrappers; the buffers are the caller's and the session is released with the job's. */
  destroy(): void {
    this.inputs.clear();
    this.outputs.clear();
  }
}
