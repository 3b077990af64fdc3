import { getComputePipeline } from '../../gpu/pipeline-cache.ts';
import { UpframeError } from '../../shared/errors.ts';
import shader from './adain.wgsl?raw';

/** Fixed when the pipeline is built: the cache key. */
const WG = 256;
/** Partial groups per plane; `finalize` merges them in one workgroup, so at most WG. */
const MAX_GROUPS = WG;
/** Elements per thread below which adding groups stops paying for itself. */
const MIN_PER_THREAD = 4;
const PARAMS_BYTES = 32;

/** PyTorch's calc_mean_std default, added to the unbiased variance before the square root. */
export const ADAIN_EPS = 1e-5;

/** Changes per dispatch: the size of the planar [C, H, W] content, reference and output. */
export interface AdainParams {
  readonly channels: number;
  readonly width: number;
  readonly height: number;
  readonly eps?: number;
}

export interface AdainResources {
  /** [C, H, W] float32 to recolour (STORAGE). */
  readonly content: GPUBuffer;
  /** [C, H, W] float32 whose per-channel mean and std are imposed (STORAGE). */
  readonly reference: GPUBuffer;
  /** [C, H, W] float32 result (STORAGE); must not be `content` (WebGPU forbids the aliasing). */
  readonly output: GPUBuffer;
}

/** How the plane is split among workgroups in the first pass. */
export function adainGroups(plane: number): { groups: number; segment: number } {
  const groups = Math.max(1, Math.min(MAX_GROUPS, Math.ceil(plane / (WG * MIN_PER_THREAD))));
  return { groups, segment: Math.ceil(plane / groups) };
}

function validate(params: AdainParams, maxChannels: number): void {
  const sizes = [params.channels, params.width, params.height];
  if (!sizes.every((n) => Number.isInteger(n) && n > 0)) {
    throw new UpframeError(
      'INVALID_OPTION',
      'adain: channels, width and height must be positive integers',
    );
  }
  if (params.channels > maxChannels) {
    throw new UpframeError(
      'INVALID_OPTION',
      `adain: channels ${params.channels} > prepared ${maxChannels}`,
    );
  }
}

function writeParams(device: GPUDevice, uniform: GPUBuffer, params: AdainParams): void {
  const data = new ArrayBuffer(PARAMS_BYTES);
  const u32 = new Uint32Array(data);
  const f32 = new Float32Array(data);
  const plane = params.width * params.height;
  const { groups, segment } = adainGroups(plane);
  u32[0] = plane;
  u32[1] = params.channels;
  u32[2] = groups;
  u32[3] = segment;
  f32[4] = params.eps ?? ADAIN_EPS;
  device.queue.writeBuffer(uniform, 0, data);
}

export interface PreparedAdain {
  /** Per tensor (content, then reference) and channel: vec4 (mean, std, 0, 0). For tests. */
  readonly stats: GPUBuffer;
  /** Rewrites the sizes (a queue write); channels may not exceed the prepared count. */
  update(params: AdainParams): void;
  /** Three compute passes: partial moments, final moments, apply. Nothing is read back. */
  encode(encoder: GPUCommandEncoder): void;
  destroy(): void;
}

export function prepareAdain(
  device: GPUDevice,
  resources: AdainResources,
  params: AdainParams,
): PreparedAdain {
  const maxChannels = params.channels;
  validate(params, maxChannels);
  const pipeline = (entryPoint: string): GPUComputePipeline =>
    getComputePipeline(device, {
      label: `adain.${entryPoint}`,
      code: shader,
      entryPoint,
      constants: { WG },
    });
  const partialsPipe = pipeline('partials');
  const finalizePipe = pipeline('finalize');
  const applyPipe = pipeline('apply');
  const uniform = device.createBuffer({
    label: 'adain.params',
    size: PARAMS_BYTES,
    usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST,
  });
  const partial = device.createBuffer({
    label: 'adain.partial',
    size: 2 * maxChannels * MAX_GROUPS * 16,
    usage: GPUBufferUsage.STORAGE,
  });
  const stats = device.createBuffer({
    label: 'adain.stats',
    size: 2 * maxChannels * 16,
    usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC,
  });
  const bind = (pipe: GPUComputePipeline, entries: [number, GPUBuffer][]): GPUBindGroup =>
    device.createBindGroup({
      layout: pipe.getBindGroupLayout(0),
      entries: entries.map(([binding, buffer]) => ({ binding, resource: { buffer } })),
    });
  const partialsGroup = bind(partialsPipe, [
    [0, resources.content],
    [1, resources.reference],
    [2, partial],
    [5, uniform],
  ]);
  const finalizeGroup = bind(finalizePipe, [
    [2, partial],
    [3, stats],
    [5, uniform],
  ]);
  const applyGroup = bind(applyPipe, [
    [0, resources.content],
    [3, stats],
    [4, resources.output],
    [5, uniform],
  ]);
  let current = params;
  writeParams(device, uniform, current);
  return {
    stats,
    update(next) {
      validate(next, maxChannels);
      current = next;
      writeParams(device, uniform, current);
    },
    encode(encoder) {
      const plane = current.width * current.height;
      const { channels } = current;
      const pass = encoder.beginComputePass({ label: 'adain' });
      pass.setPipeline(partialsPipe);
      pass.setBindGroup(0, partialsGroup);
      pass.dispatchWorkgroups(adainGroups(plane).groups, channels, 2);
      pass.setPipeline(finalizePipe);
      pass.setBindGroup(0, finalizeGroup);
      pass.dispatchWorkgroups(channels, 2);
      pass.setPipeline(applyPipe);
      pass.setBindGroup(0, applyGroup);
      pass.dispatchWorkgroups(Math.ceil(plane / WG), channels);
      pass.end();
    },
    destroy() {
      uniform.destroy();
      partial.destroy();
      stats.destroy();
    },
  };
}
