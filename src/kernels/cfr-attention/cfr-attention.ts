/**
 * Descriptor of the CFR fusion kernel (see the header of cfr-attention.wgsl for the tiling).
 *
 * Fixed when the pipelines are built (the cache key): channel counts, heads, head size, top-k
 * mode and the weight layout. Per dispatch (the uniform): tile size, search radius, temperature.
 * prepareCfr owns its uniform, bind groups and the four O(C * HW) scratch buffers (Q, K, V and
 * the attention output), sized once for the largest tile it is prepared for; encoding allocates
 * nothing.
 */
import { getComputePipeline } from '../../gpu/pipeline-cache.ts';
import { UpframeError } from '../../shared/errors.ts';
import { cfrWeightLayout, packCfrWeights, type CfrWeights } from './cfr-weights.ts';
import shader from './cfr-attention.wgsl?raw';

function wgslConst(name: string): number {
  const match = new RegExp(`const ${name}: u32 = (\\d+)u;`).exec(shader);
  if (!match?.[1]) throw new UpframeError('INTERNAL', `cfr-attention.wgsl lacks const ${name}`);
  return Number(match[1]);
}

/** Limits and tiling, defined once in the WGSL and read from it. */
export const CFR_MAX_HEAD_DIM = wgslConst('MAX_HEAD_DIM');
export const CFR_MAX_TOPK = wgslConst('MAX_TOPK');
const QB_X = wgslConst('QB_X');
const QB_Y = wgslConst('QB_Y');
const KEY_TILE = wgslConst('KEY_TILE');
const PROJ_WG = 64;
const PARAMS_BYTES = 32;

/**
 * Fixed when prepared. The channel counts are override constants (the pipeline cache key);
 * `topK` picks the entry point ('all', or a number equal to H * W, sums over every key with no
 * selection) and otherwise only reaches the uniform, so one top-k pipeline serves every k
 * (SwiftShader spends seconds compiling each attention pipeline).
 */
export interface CfrKernelConfig {
  readonly inChannels: number;
  readonly heads: number;
  readonly headDim: number;
  readonly topK: number | 'all';
}

/** Changes per dispatch. */
export interface CfrDispatchParams {
  readonly width: number;
  readonly height: number;
  /** Divides (sim - tau) before the ReLU (3000 in DLoRAL; the pack's `temperature`). */
  readonly temperature: number;
  /** Keys farther than this on either axis are skipped; undefined searches the whole tile. */
  readonly radius?: number;
}

export interface PreparedKernel<P> {
  /** Rewrites the per-dispatch parameters (a queue write, no allocation). */
  update(params: P): void;
  encode(encoder: GPUCommandEncoder): void;
  destroy(): void;
}

type Mode = { kind: 'all' } | { kind: 'topk'; k: number };

function invalid(message: string): never {
  throw new UpframeError('INVALID_OPTION', `CFR: ${message}`);
}

function resolveMode(config: CfrKernelConfig, width: number, height: number): Mode {
  const k = config.topK;
  if (k === 'all' || k === width * height) return { kind: 'all' };
  if (!Number.isInteger(k) || k < 1) invalid(`top-k must be a positive integer, got ${k}.`);
  if (k > CFR_MAX_TOPK) {
    invalid(
      `top-k ${k} is more than the kernel keeps per query (${CFR_MAX_TOPK}); use k <= ${CFR_MAX_TOPK} or k = H * W = ${width * height} (every key).`,
    );
  }
  return { kind: 'topk', k };
}

function checkConfig(config: CfrKernelConfig): void {
  for (const key of ['inChannels', 'heads', 'headDim'] as const) {
    const v = config[key];
    if (!Number.isInteger(v) || v < 1) invalid(`${key} must be a positive integer, got ${v}.`);
  }
  if (config.heads * config.headDim > 65535) {
    invalid(`heads x head size ${config.heads * config.headDim} is over one dispatch row (65535).`);
  }
  if (config.headDim > CFR_MAX_HEAD_DIM) {
    invalid(`head size ${config.headDim} is over the kernel's limit of ${CFR_MAX_HEAD_DIM}.`);
  }
}

function checkParams(params: CfrDispatchParams): void {
  const { width, height, temperature, radius } = params;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    invalid(`tile size ${width}x${height} is not valid.`);
  }
  if (!(Number.isFinite(temperature) && temperature > 0)) {
    invalid(`temperature must be a positive number, got ${temperature}.`);
  }
  if (radius !== undefined && !(Number.isInteger(radius) && radius >= 0 && radius < 2 ** 30)) {
    invalid(`search radius must be a non-negative integer, got ${radius}.`);
  }
}

function writeParams(
  device: GPUDevice,
  uniform: GPUBuffer,
  cfg: CfrKernelConfig,
  mode: Mode,
  p: CfrDispatchParams,
): void {
  const data = new ArrayBuffer(PARAMS_BYTES);
  const u32 = new Uint32Array(data);
  const i32 = new Int32Array(data);
  const f32 = new Float32Array(data);
  u32[0] = p.width;
  u32[1] = p.height;
  i32[2] = p.radius ?? -1;
  u32[3] = mode.kind === 'topk' ? mode.k : 0;
  f32[4] = Math.sqrt(cfg.headDim);
  f32[5] = p.temperature;
  device.queue.writeBuffer(uniform, 0, data);
}

/** Uploads the weights in the canonical layout the kernel's offsets assume (STORAGE). */
export function uploadCfrWeights(device: GPUDevice, weights: CfrWeights): GPUBuffer {
  const packed = packCfrWeights(weights);
  const buffer = device.createBuffer({
    label: 'cfr.weights',
    size: Math.ceil(packed.byteLength / 16) * 16,
    usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST,
  });
  device.queue.writeBuffer(buffer, 0, packed);
  return buffer;
}

/** Override constants per entry point: only those it uses, so the cache key stays minimal. */
function constantsOf(config: CfrKernelConfig, entry: Entry): Record<string, number> {
  const { offsets } = cfrWeightLayout({ ...config, temperature: 1 });
  switch (entry) {
    case 'project':
      return {
        IN_CH: config.inChannels,
        PROJ_WG,
        OFF_Q_W: offsets['q.weight'],
        OFF_Q_B: offsets['q.bias'],
        OFF_K_W: offsets['k.weight'],
        OFF_K_B: offsets['k.bias'],
        OFF_V_W: offsets['v.weight'],
        OFF_V_B: offsets['v.bias'],
      };
    case 'attend_all':
    case 'attend_topk':
      return {
        HEAD_DIM: config.headDim,
        OFF_TAU_W: offsets['tau.weight'],
        OFF_TAU_B: offsets['tau.bias'],
      };
    case 'project_out':
      return {
        HEADS: config.heads,
        HEAD_DIM: config.headDim,
        PROJ_WG,
        OFF_OUT_W: offsets['out.weight'],
        OFF_OUT_B: offsets['out.bias'],
      };
  }
}

type Entry = 'project' | 'attend_all' | 'attend_topk' | 'project_out';

interface Stage {
  readonly pipeline: GPUComputePipeline;
  readonly bindGroup: GPUBindGroup;
  readonly grid: (p: CfrDispatchParams) => [number, number, number];
}

function stage(
  device: GPUDevice,
  config: CfrKernelConfig,
  entry: Entry,
  bindings: Partial<Record<number, GPUBuffer>>,
  grid: Stage['grid'],
): Stage {
  const pipeline = getComputePipeline(device, {
    label: `cfr.${entry}`,
    code: shader,
    entryPoint: entry,
    constants: constantsOf(config, entry),
  });
  const entries: GPUBindGroupEntry[] = [];
  for (const [binding, buffer] of Object.entries(bindings)) {
    if (buffer) entries.push({ binding: Number(binding), resource: { buffer } });
  }
  const bindGroup = device.createBindGroup({
    label: `cfr.${entry}`,
    layout: pipeline.getBindGroupLayout(0),
    entries,
  });
  return { pipeline, bindGroup, grid };
}

function encodeStages(encoder: GPUCommandEncoder, stages: readonly Stage[], p: CfrDispatchParams) {
  const pass = encoder.beginComputePass({ label: 'cfr' });
  for (const s of stages) {
    pass.setPipeline(s.pipeline);
    pass.setBindGroup(0, s.bindGroup);
    pass.dispatchWorkgroups(...s.grid(p));
  }
  pass.end();
}

function attentionStage(
  device: GPUDevice,
  config: CfrKernelConfig,
  mode: Mode,
  buffers: { weights: GPUBuffer; q: GPUBuffer; k: GPUBuffer; v: GPUBuffer; attn: GPUBuffer },
  uniform: GPUBuffer,
): Stage {
  return stage(
    device,
    config,
    mode.kind === 'all' ? 'attend_all' : 'attend_topk',
    { 2: buffers.weights, 3: buffers.q, 4: buffers.k, 5: buffers.v, 6: buffers.attn, 8: uniform },
    (p) => [Math.ceil(p.width / QB_X), Math.ceil(p.height / QB_Y), config.heads],
  );
}

/**
 * Prepares the attention pass alone, on projections the caller provides: q, k, v and output are
 * planar f32 [heads * headDim, H, W] (STORAGE). `weights` supplies tau (uploadCfrWeights).
 */
export function prepareCfrAttention(
  device: GPUDevice,
  resources: { q: GPUBuffer; k: GPUBuffer; v: GPUBuffer; weights: GPUBuffer; output: GPUBuffer },
  config: CfrKernelConfig,
  params: CfrDispatchParams,
): PreparedKernel<CfrDispatchParams> {
  checkConfig(config);
  checkParams(params);
  const mode = resolveMode(config, params.width, params.height);
  const uniform = device.createBuffer({
    label: 'cfr.params',
    size: PARAMS_BYTES,
    usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST,
  });
  const attend = attentionStage(
    device,
    config,
    mode,
    { ...resources, attn: resources.output },
    uniform,
  );
  let current = params;
  writeParams(device, uniform, config, mode, current);
  return {
    update(next) {
      checkParams(next);
      if (resolveMode(config, next.width, next.height).kind !== mode.kind) {
        invalid('top-k equals H * W for one tile size and not the other; prepare again.');
      }
      current = next;
      writeParams(device, uniform, config, mode, current);
    },
    encode(encoder) {
      encodeStages(encoder, [attend], current);
    },
    destroy() {
      uniform.destroy();
    },
  };
}

/**
 * Prepares the whole CFR fusion: `current` (z_n) and `reference` (warped z_{n-1}) are planar f32
 * [inChannels, H, W]; `output` receives fused = z_n + Conv1x1(attention) [inChannels, H, W];
 * `weights` comes from uploadCfrWeights. All STORAGE; `output` must not alias the inputs.
 */
export function prepareCfr(
  device: GPUDevice,
  resources: { current: GPUBuffer; reference: GPUBuffer; weights: GPUBuffer; output: GPUBuffer },
  config: CfrKernelConfig,
  params: CfrDispatchParams,
): PreparedKernel<CfrDispatchParams> {
  checkConfig(config);
  checkParams(params);
  const mode = resolveMode(config, params.width, params.height);
  const capacity = params.width * params.height;
  const channels = config.heads * config.headDim;
  const scratch = (name: string): GPUBuffer =>
    device.createBuffer({
      label: `cfr.${name}`,
      size: channels * capacity * 4,
      usage: GPUBufferUsage.STORAGE,
    });
  const q = scratch('q');
  const k = scratch('k');
  const v = scratch('v');
  const attn = scratch('attn');
  const uniform = device.createBuffer({
    label: 'cfr.params',
    size: PARAMS_BYTES,
    usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST,
  });
  const { current: cur, reference, weights, output } = resources;
  const positions = (p: CfrDispatchParams): number => Math.ceil((p.width * p.height) / PROJ_WG);
  const stages = [
    stage(
      device,
      config,
      'project',
      { 0: cur, 1: reference, 2: weights, 3: q, 4: k, 5: v, 8: uniform },
      (p) => [positions(p), channels, 1],
    ),
    attentionStage(device, config, mode, { weights, q, k, v, attn }, uniform),
    stage(
      device,
      config,
      'project_out',
      { 0: cur, 2: weights, 6: attn, 7: output, 8: uniform },
      (p) => [positions(p), config.inChannels, 1],
    ),
  ];
  let current = params;
  writeParams(device, uniform, config, mode, current);
  return {
    update(next) {
      checkParams(next);
      if (next.width * next.height > capacity) {
        invalid(
          `tile ${next.width}x${next.height} is larger than the ${params.width}x${params.height} this CFR was prepared for.`,
        );
      }
      if (resolveMode(config, next.width, next.height).kind !== mode.kind) {
        invalid('top-k equals H * W for one tile size and not the other; prepare again.');
      }
      current = next;
      writeParams(device, uniform, config, mode, current);
    },
    encode(encoder) {
      encodeStages(encoder, stages, current);
    },
    destroy() {
      for (const b of [q, k, v, attn, uniform]) b.destroy();
    },
  };
}

export interface CfrPlanInput {
  readonly width: number;
  readonly height: number;
  readonly inChannels: number;
  readonly heads: number;
  readonly headDim: number;
  readonly topK: number | 'all';
}

export interface CfrMemoryPlan {
  /** Every GPU buffer one prepared CFR touches, with its size in bytes. */
  readonly buffers: readonly { readonly name: string; readonly bytes: number }[];
  readonly totalBufferBytes: number;
  /** Workgroup memory of the attention pass (per workgroup of 64 queries). */
  readonly workgroupBytes: number;
  /** Private memory the attention pass keeps per query (accumulator or candidate list). */
  readonly privateBytesPerQuery: number;
  /** What the released code materialises instead: heads x HW x HW similarities in fp16. */
  readonly denseSimilarityFp16Bytes: number;
}

/**
 * The buffers prepareCfr allocates or binds for one tile, in bytes. Top-k does not change them:
 * candidates live in private memory and the gather reads V in place, so the only per-k cost is
 * MAX_TOPK (sim, key) pairs per query.
 */
export function cfrMemoryPlan(input: CfrPlanInput): CfrMemoryPlan {
  const hw = input.width * input.height;
  const channels = input.heads * input.headDim;
  const mode = resolveMode(input, input.width, input.height);
  const { floats } = cfrWeightLayout({ ...input, temperature: 1 });
  const buffers = [
    { name: 'current (z_n)', bytes: input.inChannels * hw * 4 },
    { name: 'reference (warped z_n-1)', bytes: input.inChannels * hw * 4 },
    { name: 'weights', bytes: Math.ceil((floats * 4) / 16) * 16 },
    { name: 'q', bytes: channels * hw * 4 },
    { name: 'k', bytes: channels * hw * 4 },
    { name: 'v', bytes: channels * hw * 4 },
    { name: 'attention', bytes: channels * hw * 4 },
    { name: 'fused output', bytes: input.inChannels * hw * 4 },
    { name: 'uniform', bytes: PARAMS_BYTES },
  ];
  return {
    buffers,
    totalBufferBytes: buffers.reduce((a, b) => a + b.bytes, 0),
    workgroupBytes: (QB_X * QB_Y + 2 * KEY_TILE) * CFR_MAX_HEAD_DIM * 4 + KEY_TILE * 4,
    privateBytesPerQuery: mode.kind === 'all' ? CFR_MAX_HEAD_DIM * 4 : CFR_MAX_TOPK * 8,
    denseSimilarityFp16Bytes: input.heads * hw * hw * 2,
  };
}
