import { flowLevels, resolveFlowOptions, type FlowOptions } from './flow.ts';
import { downsample, lkStep, median3x3, toGray, upsampleFlow } from './flow.ref.ts';

/**
 * flowRef for a stream of frames, with every buffer allocated once: the grey pyramid of frame n
 * is kept and becomes frame n + 1's "previous" pyramid instead of being rebuilt, and the flow
 * planes of each level are reused. `next` gives exactly what `flowRef(frame, previousFrame)`
 * gives (the same helpers in the same order, the Gauss-Newton steps in place). The wasm
 * pipelines use it; flowRef stays the plain reference.
 */
export class FlowCpu {
  private readonly levels: readonly (readonly [number, number])[];
  private readonly channels: 1 | 3;
  private readonly radius: number;
  private readonly iterations: number;
  private readonly lambda: number;
  private current: Float32Array[];
  private previous: Float32Array[];
  /** Per level: the flow being refined (in place) and its median-filtered result. */
  private readonly work: Float32Array[];
  private readonly filtered: Float32Array[];
  private readonly medianScratch = new Float64Array(9);
  private hasPrevious = false;

  constructor(options: FlowOptions) {
    const opts = resolveFlowOptions(options);
    this.levels = flowLevels(opts);
    this.channels = opts.channels;
    this.radius = opts.radius;
    this.iterations = opts.iterations;
    this.lambda = opts.lambda;
    const planes = (per: number) => this.levels.map(([w, h]) => new Float32Array(per * w * h));
    this.current = planes(1);
    this.previous = planes(1);
    this.work = planes(2);
    this.filtered = planes(2);
  }

  /** Forget the previous frame (a cut, or a new clip). */
  reset(): void {
    this.hasPrevious = false;
  }

  /**
   * Takes frame n (planar [C, H, W], the size and channels the options name) and returns
   * flow(n -> n-1) [2, H, W], or null for the first frame after construction or `reset`. With
   * `compute` false it only records the frame (a caller that has the flow from elsewhere). The
   * returned array is reused: it is valid until the next call.
   */
  next(frame: Float32Array, compute = true): Float32Array | null {
    [this.previous, this.current] = [this.current, this.previous];
    const levels = this.levels;
    const [w0, h0] = levels[0]!;
    toGray(frame, this.channels, w0 * h0, this.current[0]);
    for (let l = 1; l < levels.length; l++) {
      const [fw, fh] = levels[l - 1]!;
      const [w, h] = levels[l]!;
      downsample(this.current[l - 1]!, fw, fh, w, h, this.current[l]);
    }
    const had = this.hasPrevious;
    this.hasPrevious = true;
    if (!had || !compute) return null;
    let result: Float32Array | null = null;
    for (let l = levels.length - 1; l >= 0; l--) {
      const [w, h] = levels[l]!;
      const flow = this.work[l]!;
      if (result) {
        const [cw, ch] = levels[l + 1]!;
        upsampleFlow(result, cw, ch, w, h, flow);
      } else {
        flow.fill(0);
      }
      for (let it = 0; it < this.iterations; it++) {
        lkStep(this.current[l]!, this.previous[l]!, flow, w, h, this.radius, this.lambda, flow);
      }
      result = median3x3(flow, w, h, this.filtered[l], this.medianScratch);
    }
    return result;
  }
}
