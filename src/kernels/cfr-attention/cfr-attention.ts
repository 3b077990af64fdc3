/**
 * Descriptor of the CFR fusion kernel (see the header of cfr-attention.wgsl for the tiling).
 *
 * Fixed when the pipelines are built (the cache key): channel counts, heads, head size, top-k
 * mode and the weight layout. Per dispatch (the uniform): tile size, search radius, temperature,
 * and the band of query rows. prepareCfr owns its uniform, bind groups and the four O(C * HW)
 * scratch buffers (Q, K, V and the attention output), sized once for the largest tile it is
 * prepared for; encoding allocates nothing.
 *
 * Bands: the attention pass costs O(HW x keys), so at DLoRAL's 96 x 96 latent tile one dispatch
 * is ~49 G multiply-adds (minutes on SwiftShader, past Windows' 2 s TDR on a weak GPU). With
 * `bandRows` it runs as one dispatch per band of query rows; `encodeBand(encoder, i)` records
 * band i alone so a caller can submit (and wait) between bands. The rule for 'auto' is
 * cfrBandRows: the most rows, in multiples of 8 (one workgroup row), whose estimated work
 * rows x W x keys visited per query x heads x headDim stays under CFR_BAND_WORK_BUDGET (2^32,
 * ~0.4 s at 10 G multiply-adds/s), at least 8 rows; at 96 x 96, 9 x 64, no radius, that is
 * 8 rows (4.1 G) in 12 bands. Without `bandRows` the whole tile is one band: one dispatch, as
 * before bands existed.
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
/** Uniform slot stride the memory plan assumes: WebGPU's largest minUniformBufferOffsetAlignment. */
const PLAN_SLOT_STRIDE = 256;

/** Bands are whole workgroup rows, so banded and one-band dispatches group queries alike. */
export const CFR_BAND_ROW_ALIGN = QB_Y;
/**
 * Multiply-adds one attention dispatch may be estimated at (cfrAttentionWork): 2^32, about 0.4 s
 * on a GPU that sustains only 10 G multiply-adds/s in this kernel, under a 2 s watchdog even at
 * attend_all's up-to-double cost. It admits 8 rows of a 96 x 96, 9 x 64 tile (4.08 G).
 */
export const CFR_BAND_WORK_BUDGET = 2 ** 32;

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

/** Fixed when prepared, like the uniform slots it sizes. */
export interface CfrBandOptions {
  /**
   * Query rows per attention dispatch: a multiple of CFR_BAND_ROW_ALIGN (8), or 'auto'
   * (cfrBandRows for each tile). Absent: the whole tile in one dispatch.
   */
  readonly bandRows?: number | 'auto';
}

export interface PreparedCfr extends PreparedKernel<CfrDispatchParams> {
  /** Attention dispatches for the current tile (1 without `bandRows`). */
  readonly bands: number;
  /** Query rows per band for the current tile (the last band may have fewer). */
  readonly bandRows: number;
  /**
   * Records band `band` (0 .. bands - 1) in its own compute pass. Bands 0..bands-1 in order do
   * what encode does (band 0 also projects Q/K/V, the last band also the output projection for
   * prepareCfr), so the caller may submit and wait between them.
   */
  encodeBand(encoder: GPUCommandEncoder, band: number): void;
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

function checkBandOptions(options: CfrBandOptions): void {
  const rows = options.bandRows;
  if (rows === undefined || rows === 'auto') return;
  if (!(Number.isInteger(rows) && rows >= CFR_BAND_ROW_ALIGN && rows % CFR_BAND_ROW_ALIGN === 0)) {
    invalid(
      `bandRows must be 'auto' or a positive multiple of ${CFR_BAND_ROW_ALIGN}, got ${rows}.`,
    );
  }
}

type TileShape = Pick<CfrDispatchParams, 'width' | 'height' | 'radius'>;
type HeadShape = Pick<CfrKernelConfig, 'heads' | 'headDim'>;

/**
 * Estimated multiply-adds of an attention dispatch over `rows` query rows: rows x W queries, each
 * comparing its head's query with every key of its workgroup's window (the whole tile without a
 * radius, else the 8 x 8 block grown by the radius on each side, clipped to the tile), in every
 * head, over headDim channels. attend_all adds at most as much again for the keys with weight > 0.
 */
export function cfrAttentionWork(config: HeadShape, tile: TileShape, rows: number): number {
  const { width, height, radius } = tile;
  const keys =
    radius === undefined
      ? width * height
      : Math.min(width, QB_X + 2 * radius) * Math.min(height, QB_Y + 2 * radius);
  return rows * width * keys * config.heads * config.headDim;
}

/**
 * The band height 'auto' picks: the whole tile if its work fits `budget`, else the most rows in
 * multiples of CFR_BAND_ROW_ALIGN whose cfrAttentionWork fits, and never fewer than that
 * alignment (a finer split would leave workgroup rows idle, not shorten the dispatch).
 */
export function cfrBandRows(
  config: HeadShape,
  tile: TileShape,
  budget: number = CFR_BAND_WORK_BUDGET,
): number {
  const perRow = cfrAttentionWork(config, tile, 1);
  if (perRow * tile.height <= budget) return tile.height;
  const fit = Math.floor(budget / perRow / CFR_BAND_ROW_ALIGN) * CFR_BAND_ROW_ALIGN;
  return Math.min(tile.height, Math.max(CFR_BAND_ROW_ALIGN, fit));
}

/** Rows per band for one tile under `options` (the whole tile when there is one band). */
function bandRowsFor(config: HeadShape, options: CfrBandOptions, tile: TileShape): number {
  const rows = options.bandRows;
  if (rows === undefined) return tile.height;
  if (rows === 'auto') return cfrBandRows(config, tile);
  return Math.min(rows, tile.height);
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

type Entry = 'project' | 'attend_all' | 'attend_topk' | 'project_out';

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

function pipelineOf(device: GPUDevice, config: CfrKernelConfig, entry: Entry) {
  return getComputePipeline(device, {
    label: `cfr.${entry}`,
    code: shader,
    entryPoint: entry,
    constants: constantsOf(config, entry),
  });
}

function bindGroupOf(
  device: GPUDevice,
  pipeline: GPUComputePipeline,
  label: string,
  bindings: Record<number, GPUBuffer | GPUBufferBinding>,
): GPUBindGroup {
  const entries: GPUBindGroupEntry[] = Object.entries(bindings).map(([binding, b]) => ({
    binding: Number(binding),
    resource: 'buffer' in b ? b : { buffer: b },
  }));
  return device.createBindGroup({ label, layout: pipeline.getBindGroupLayout(0), entries });
}

/** A projection stage: one pipeline and bind group, dispatched over positions x channels. */
interface Projection {
  readonly pipeline: GPUComputePipeline;
  readonly bindGroup: GPUBindGroup;
  readonly channels: number;
}

const PASS: GPUComputePassDescriptor = { label: 'cfr' };

/**
 * The banded attention pass and everything around it: one uniform with a slot per band (written
 * by update, read by the projections from slot 0), one attention bind group per slot, and the
 * optional projections before the first band and after the last.
 */
function preparePasses(
  device: GPUDevice,
  config: CfrKernelConfig,
  options: CfrBandOptions,
  params: CfrDispatchParams,
  attendBindings: (uniform: GPUBufferBinding) => Record<number, GPUBuffer | GPUBufferBinding>,
  projections: (uniform: GPUBufferBinding) => { before?: Projection; after?: Projection },
  checkTile: (next: CfrDispatchParams) => void,
): PreparedCfr {
  checkConfig(config);
  checkParams(params);
  checkBandOptions(options);
  const mode = resolveMode(config, params.width, params.height);
  const slots = Math.ceil(params.height / bandRowsFor(config, options, params));
  const stride = Math.max(device.limits.minUniformBufferOffsetAlignment, PARAMS_BYTES);
  const uniformBytes = (slots - 1) * stride + PARAMS_BYTES;
  const uniform = device.createBuffer({
    label: 'cfr.params',
    size: uniformBytes,
    usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST,
  });
  const staging = new ArrayBuffer(uniformBytes);
  const u32 = new Uint32Array(staging);
  const i32 = new Int32Array(staging);
  const f32 = new Float32Array(staging);
  const slot = (i: number): GPUBufferBinding => ({
    buffer: uniform,
    offset: i * stride,
    size: PARAMS_BYTES,
  });
  const attend = pipelineOf(device, config, mode.kind === 'all' ? 'attend_all' : 'attend_topk');
  const bindings = Array.from({ length: slots }, (_, i) =>
    bindGroupOf(device, attend, `cfr.attend.band${i}`, attendBindings(slot(i))),
  );
  const { before, after } = projections(slot(0));

  let current = params;
  let rows = 0;
  let bands = 0;
  const write = (p: CfrDispatchParams): void => {
    const r = bandRowsFor(config, options, p);
    const n = Math.ceil(p.height / r);
    if (n > slots) {
      invalid(
        `tile ${p.width}x${p.height} needs ${n} bands of ${r} rows; this CFR was prepared with ${slots}. Prepare again.`,
      );
    }
    for (let i = 0; i < n; i++) {
      const o = (i * stride) / 4;
      u32[o] = p.width;
      u32[o + 1] = p.height;
      i32[o + 2] = p.radius ?? -1;
      u32[o + 3] = mode.kind === 'topk' ? mode.k : 0;
      f32[o + 4] = Math.sqrt(config.headDim);
      f32[o + 5] = p.temperature;
      u32[o + 6] = i * r;
      u32[o + 7] = Math.min(r, p.height - i * r);
    }
    device.queue.writeBuffer(uniform, 0, staging, 0, (n - 1) * stride + PARAMS_BYTES);
    current = p;
    rows = r;
    bands = n;
  };
  write(params);

  const project = (pass: GPUComputePassEncoder, stage: Projection): void => {
    pass.setPipeline(stage.pipeline);
    pass.setBindGroup(0, stage.bindGroup);
    pass.dispatchWorkgroups(
      Math.ceil((current.width * current.height) / PROJ_WG),
      stage.channels,
      1,
    );
  };
  const attendBand = (pass: GPUComputePassEncoder, band: number): void => {
    pass.setPipeline(attend);
    pass.setBindGroup(0, bindings[band]!);
    pass.dispatchWorkgroups(
      Math.ceil(current.width / QB_X),
      Math.ceil(Math.min(rows, current.height - band * rows) / QB_Y),
      config.heads,
    );
  };

  return {
    get bands() {
      return bands;
    },
    get bandRows() {
      return rows;
    },
    update(next) {
      checkParams(next);
      checkTile(next);
      if (resolveMode(config, next.width, next.height).kind !== mode.kind) {
        invalid('top-k equals H * W for one tile size and not the other; prepare again.');
      }
      write(next);
    },
    encode(encoder) {
      const pass = encoder.beginComputePass(PASS);
      if (before) project(pass, before);
      for (let i = 0; i < bands; i++) attendBand(pass, i);
      if (after) project(pass, after);
      pass.end();
    },
    encodeBand(encoder, band) {
      if (!(Number.isInteger(band) && band >= 0 && band < bands)) {
        invalid(`band ${band} is not one of the ${bands} bands of this tile.`);
      }
      const pass = encoder.beginComputePass(PASS);
      if (before && band === 0) project(pass, before);
      attendBand(pass, band);
      if (after && band === bands - 1) project(pass, after);
      pass.end();
    },
    destroy() {
      uniform.destroy();
    },
  };
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
  options: CfrBandOptions = {},
): PreparedCfr {
  const { q, k, v, weights, output } = resources;
  return preparePasses(
    device,
    config,
    options,
    params,
    (uniform) => ({ 2: weights, 3: q, 4: k, 5: v, 6: output, 8: uniform }),
    () => ({}),
    () => {},
  );
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
  options: CfrBandOptions = {},
): PreparedCfr {
  checkConfig(config);
  checkParams(params);
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
  const { current: cur, reference, weights, output } = resources;
  let passes: PreparedCfr;
  try {
    passes = preparePasses(
      device,
      config,
      options,
      params,
      (uniform) => ({ 2: weights, 3: q, 4: k, 5: v, 6: attn, 8: uniform }),
      (uniform) => {
        const proj = pipelineOf(device, config, 'project');
        const out = pipelineOf(device, config, 'project_out');
        return {
          before: {
            pipeline: proj,
            bindGroup: bindGroupOf(device, proj, 'cfr.project', {
              0: cur,
              1: reference,
              2: weights,
              3: q,
              4: k,
              5: v,
              8: uniform,
            }),
            channels,
          },
          after: {
            pipeline: out,
            bindGroup: bindGroupOf(device, out, 'cfr.project_out', {
              0: cur,
              2: weights,
              6: attn,
              7: output,
              8: uniform,
            }),
            channels: config.inChannels,
          },
        };
      },
      (next) => {
        if (next.width * next.height > capacity) {
          invalid(
            `tile ${next.width}x${next.height} is larger than the ${params.width}x${params.height} this CFR was prepared for.`,
          );
        }
      },
    );
  } catch (err) {
    for (const b of [q, k, v, attn]) b.destroy();
    throw err;
  }
  return {
    get bands() {
      return passes.bands;
    },
    get bandRows() {
      return passes.bandRows;
    },
    update: (next) => passes.update(next),
    encode: (encoder) => passes.encode(encoder),
    encodeBand: (encoder, band) => passes.encodeBand(encoder, band),
    destroy() {
      passes.destroy();
      for (const b of [q, k, v, attn]) b.destroy();
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
  readonly radius?: number;
  /** As CfrBandOptions: the uniform grows by one 256-byte slot per band. */
  readonly bandRows?: number | 'auto';
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
  /** Attention dispatches per tile, their query rows, and the work estimate of the largest. */
  readonly bands: number;
  readonly bandRows: number;
  readonly bandWork: number;
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
  checkBandOptions(input);
  const bandRows = bandRowsFor(input, input, input);
  const bands = Math.ceil(input.height / bandRows);
  const buffers = [
    { name: 'current (z_n)', bytes: input.inChannels * hw * 4 },
    { name: 'reference (warped z_n-1)', bytes: input.inChannels * hw * 4 },
    { name: 'weights', bytes: Math.ceil((floats * 4) / 16) * 16 },
    { name: 'q', bytes: channels * hw * 4 },
    { name: 'k', bytes: channels * hw * 4 },
    { name: 'v', bytes: channels * hw * 4 },
    { name: 'attention', bytes: channels * hw * 4 },
    { name: 'fused output', bytes: input.inChannels * hw * 4 },
    { name: 'uniform', bytes: (bands - 1) * PLAN_SLOT_STRIDE + PARAMS_BYTES },
  ];
  return {
    buffers,
    totalBufferBytes: buffers.reduce((a, b) => a + b.bytes, 0),
    workgroupBytes: (QB_X * QB_Y + 2 * KEY_TILE) * CFR_MAX_HEAD_DIM * 4 + KEY_TILE * 4,
    privateBytesPerQuery: mode.kind === 'all' ? CFR_MAX_HEAD_DIM * 4 : CFR_MAX_TOPK * 8,
    denseSimilarityFp16Bytes: input.heads * hw * hw * 2,
    bands,
    bandRows,
    bandWork: cfrAttentionWork(input, input, bandRows),
  };
}
