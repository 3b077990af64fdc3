import { getComputePipeline } from '../../gpu/pipeline-cache.ts';
import { UpframeError } from '../../shared/errors.ts';
import shader from './flow.wgsl?raw';

/**
 * Anything that writes a dense flow(current -> previous) for a fixed frame size: this module's
 * pyramidal Lucas-Kanade, or later a pack's SpyNet run through ORT.
 *
 * Contract:
 * - `current` and `previous` are planar float32 frames [C, H, W] of the size and channel count the
 *   provider was prepared for (STORAGE usage); `out` receives [2, H, W] float32: the x plane then
 *   the y plane, in pixels of that size.
 * - Backward-warp convention: previous(x + dx, y + dy) ~ current(x, y). Sampling the PREVIOUS
 *   frame (or latent) at x + flow gives it aligned to the CURRENT one.
 * - `encode` records GPU work into `encoder`, or (an ORT-backed provider such as a pack's SpyNet)
 *   submits its own work on the queue and resolves when the flow is there: then the frames it
 *   reads must already be SUBMITTED, not merely recorded into `encoder`. It never reads back and
 *   never allocates in the steady state. Call `destroy` once at the end of the job.
 */
export interface FlowProvider {
  readonly width: number;
  readonly height: number;
  encode(
    encoder: GPUCommandEncoder,
    current: GPUBuffer,
    previous: GPUBuffer,
    out: GPUBuffer,
  ): void | Promise<void>;
  destroy(): void;
}

export interface FlowOptions {
  readonly width: number;
  readonly height: number;
  /** 1 (luma) or 3 (RGB, reduced to BT.601 luma). */
  readonly channels: 1 | 3;
  /** Lucas-Kanade window radius R: the window is (2R + 1)^2. */
  readonly radius?: number;
  /** Gauss-Newton steps per pyramid level. */
  readonly iterations?: number;
  /** Coarsest level keeps min(w, h) >= this. */
  readonly minLevelSize?: number;
  readonly maxLevels?: number;
  /**
   * Tikhonov term per window pixel, in (intensity / pixel)^2 for intensities in [0, 1] (scale it
   * by 4 for [-1, 1] input): keeps flat regions at the flow propagated from coarser levels.
   */
  readonly lambda?: number;
}

export type ResolvedFlowOptions = Required<FlowOptions>;

export const FLOW_DEFAULTS = {
  radius: 4,
  iterations: 4,
  minLevelSize: 12,
  maxLevels: 6,
  lambda: 1e-3,
} as const;

export function resolveFlowOptions(options: FlowOptions): ResolvedFlowOptions {
  const resolved = { ...FLOW_DEFAULTS, ...options };
  const ints = [resolved.width, resolved.height, resolved.iterations, resolved.maxLevels];
  if (!ints.every((n) => Number.isInteger(n) && n > 0)) {
    throw new UpframeError(
      'INVALID_OPTION',
      'flow: width, height, iterations and maxLevels must be positive integers',
    );
  }
  if (resolved.channels !== 1 && resolved.channels !== 3) {
    throw new UpframeError(
      'INVALID_OPTION',
      `flow: channels must be 1 or 3, not ${String(resolved.channels)}`,
    );
  }
  if (!Number.isInteger(resolved.radius) || resolved.radius < 1 || resolved.radius > 8) {
    throw new UpframeError('INVALID_OPTION', 'flow: radius must be an integer in 1..8');
  }
  if (!(resolved.lambda >= 0)) {
    throw new UpframeError('INVALID_OPTION', 'flow: lambda must be >= 0');
  }
  return resolved;
}

/** Pyramid level sizes, finest first: each level is ceil(previous / 2). */
export function flowLevels(options: ResolvedFlowOptions): [number, number][] {
  const levels: [number, number][] = [[options.width, options.height]];
  for (;;) {
    const [w, h] = levels[levels.length - 1]!;
    const next: [number, number] = [Math.ceil(w / 2), Math.ceil(h / 2)];
    if (levels.length >= options.maxLevels || Math.min(...next) < options.minLevelSize) break;
    levels.push(next);
  }
  return levels;
}

/** Fixed when the pipeline is built: the cache key. */
const WG_X = 16;
const WG_Y = 16;
const PARAMS_BYTES = 48;

type Entry = 'to_gray' | 'downsample' | 'upsample_flow' | 'lk_step' | 'median';

interface Step {
  readonly pipeline: GPUComputePipeline;
  readonly bindGroup: GPUBindGroup;
  readonly size: readonly [number, number];
}

export interface PreparedFlow extends FlowProvider {
  /** Pyramid level sizes, finest first. */
  readonly levels: readonly (readonly [number, number])[];
}

/**
 * Builds every buffer, uniform and bind group for one frame size once; `encode` then records
 * about 2 + 6 x levels compute dispatches and one copy into `out` (which needs COPY_DST usage).
 */
export function prepareFlow(device: GPUDevice, options: FlowOptions): PreparedFlow {
  const opts = resolveFlowOptions(options);
  const levels = flowLevels(opts);
  const pipelines = new Map<Entry, GPUComputePipeline>();
  const pipeline = (entryPoint: Entry): GPUComputePipeline => {
    let p = pipelines.get(entryPoint);
    if (!p) {
      p = getComputePipeline(device, {
        label: `flow.${entryPoint}`,
        code: shader,
        entryPoint,
        constants: { WG_X, WG_Y },
      });
      pipelines.set(entryPoint, p);
    }
    return p;
  };
  const owned: GPUBuffer[] = [];
  const buffer = (label: string, floats: number): GPUBuffer => {
    const b = device.createBuffer({
      label: `flow.${label}`,
      size: floats * 4,
      usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST,
    });
    owned.push(b);
    return b;
  };
  const uniforms = levels.map(([w, h], l) => {
    const data = new ArrayBuffer(PARAMS_BYTES);
    const u32 = new Uint32Array(data);
    const i32 = new Int32Array(data);
    const f32 = new Float32Array(data);
    const finer = levels[l - 1] ?? [w, h];
    const coarser = levels[l + 1] ?? [w, h];
    [u32[0], u32[1], u32[2], u32[3], u32[4], u32[5]] = [w, h, ...finer, ...coarser];
    u32[6] = opts.channels;
    i32[7] = opts.radius;
    f32[8] = opts.lambda;
    const uniform = device.createBuffer({
      label: `flow.params.${l}`,
      size: PARAMS_BYTES,
      usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST,
    });
    owned.push(uniform);
    device.queue.writeBuffer(uniform, 0, data);
    return uniform;
  });
  const curPyr = levels.map(([w, h], l) => buffer(`current.${l}`, w * h));
  const prevPyr = levels.map(([w, h], l) => buffer(`previous.${l}`, w * h));
  const flowA = levels.map(([w, h], l) => buffer(`flow-a.${l}`, 2 * w * h));
  const flowB = levels.map(([w, h], l) => buffer(`flow-b.${l}`, 2 * w * h));

  const step = (entry: Entry, l: number, buffers: [number, GPUBuffer][]): Step => {
    const p = pipeline(entry);
    return {
      pipeline: p,
      size: levels[l]!,
      bindGroup: device.createBindGroup({
        label: `flow.${entry}.${l}`,
        layout: p.getBindGroupLayout(0),
        entries: [
          { binding: 0, resource: { buffer: uniforms[l]! } },
          ...buffers.map(([binding, b]) => ({ binding, resource: { buffer: b } })),
        ],
      }),
    };
  };

  const pyramid: Step[] = [];
  for (let l = 1; l < levels.length; l++) {
    pyramid.push(
      step('downsample', l, [
        [3, curPyr[l - 1]!],
        [4, curPyr[l]!],
      ]),
    );
    pyramid.push(
      step('downsample', l, [
        [3, prevPyr[l - 1]!],
        [4, prevPyr[l]!],
      ]),
    );
  }
  // Coarse to fine. Each level starts in A (zeros or upsampled), ping-pongs A <-> B through the
  // LK steps, then the median writes into the other one; `final[l]` is where level l ends.
  const final: GPUBuffer[] = [];
  const solve: Step[] = [];
  const coarsest = levels.length - 1;
  for (let l = coarsest; l >= 0; l--) {
    if (l < coarsest)
      solve.push(
        step('upsample_flow', l, [
          [5, final[l + 1]!],
          [6, flowA[l]!],
        ]),
      );
    let src = flowA[l]!;
    let dst = flowB[l]!;
    for (let it = 0; it < opts.iterations; it++) {
      solve.push(
        step('lk_step', l, [
          [7, curPyr[l]!],
          [8, prevPyr[l]!],
          [9, src],
          [10, dst],
        ]),
      );
      [src, dst] = [dst, src];
    }
    solve.push(
      step('median', l, [
        [11, src],
        [12, dst],
      ]),
    );
    final[l] = dst;
  }

  // The caller's frames change from call to call (typically two buffers in turn): one bind group
  // per (buffer, role), made on first use and kept.
  const grayGroups = [new WeakMap<GPUBuffer, Step>(), new WeakMap<GPUBuffer, Step>()] as const;
  const gray = (role: 0 | 1, frame: GPUBuffer): Step => {
    let s = grayGroups[role].get(frame);
    if (!s) {
      s = step('to_gray', 0, [
        [1, frame],
        [2, (role === 0 ? curPyr : prevPyr)[0]!],
      ]);
      grayGroups[role].set(frame, s);
    }
    return s;
  };
  const run = (pass: GPUComputePassEncoder, s: Step): void => {
    pass.setPipeline(s.pipeline);
    pass.setBindGroup(0, s.bindGroup);
    pass.dispatchWorkgroups(Math.ceil(s.size[0] / WG_X), Math.ceil(s.size[1] / WG_Y));
  };
  const [width, height] = levels[0]!;
  return {
    width,
    height,
    levels,
    encode(encoder, current, previous, out) {
      encoder.clearBuffer(flowA[coarsest]!);
      const pass = encoder.beginComputePass({ label: 'flow' });
      run(pass, gray(0, current));
      run(pass, gray(1, previous));
      for (const s of pyramid) run(pass, s);
      for (const s of solve) run(pass, s);
      pass.end();
      encoder.copyBufferToBuffer(final[0]!, 0, out, 0, 2 * width * height * 4);
    },
    destroy() {
      for (const b of owned) b.destroy();
    },
  };
}
