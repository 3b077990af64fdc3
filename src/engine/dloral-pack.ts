/**
 * The `dloral` pack contract (DESIGN.md "The DLoRAL pipeline"): what `manifest.extra.dloral`
 * holds, its validation, and the memory plan made before a job starts (the frame geometry and
 * tile grids are in dloral-tiles.ts and re-exported here). Pure data and arithmetic (no
 * GPU, no ORT), so the pack generator, the exporter's tests, both pipelines and the UI share it.
 */
import { UpframeError } from '../shared/errors.ts';
import { parseCfrPack, type CfrWeights } from '../kernels/cfr-attention/cfr-weights.ts';
import type { PackManifest } from './manifest.ts';
import type { LoadedPack } from './packs.ts';

export const DLORAL_FORMAT = 'upframe-dloral-1';

/** A tensor of one graph: any rank; symbolic dims are names such as "H" or "h". */
export interface DloralTensor {
  readonly name: string;
  readonly shape: readonly (number | string)[];
  readonly dtype: 'float32' | 'float16';
  /** '-1,1' for images, 'latent' for scaled SD latents, 'any' for other values. */
  readonly range: string;
}

/**
 * Memory of one graph at a given input size, fitted by the generator or exporter as
 * bytes = linear * P + quadratic * P^2 for P input pixels of the graph (quadratic terms come from
 * self-attention score matrices).
 */
export interface DloralCost {
  readonly linear: number;
  readonly quadratic: number;
}

/**
 * GroupNorm statistics shared by all VAE tiles (the released Tiled VAE's GroupNorm sync, "fast
 * mode"). Every GroupNorm of the graph computes its own per-group mean and variance and
 * normalises with m = own + mix * (given - own) (the same for the variance), `given` sliced from
 * the input `statsIn` [count]: per layer in graph order, the means of its groups then their
 * variances. `mix` is a float scalar input (0: plain GroupNorm, bit for bit; 1: the given
 * statistics). The output `statsOut` [count] holds the graph's own statistics in the same layout.
 */
export interface GroupNormSync {
  readonly statsIn: string;
  readonly statsOut: string;
  readonly mix: string;
  readonly count: number;
}

export interface DloralGraph {
  readonly path: string;
  readonly inputs: readonly DloralTensor[];
  readonly outputs: readonly DloralTensor[];
  /** Bytes of weights the graph keeps on the device. */
  readonly weightBytes: number;
  /** The largest single weight tensor (it must fit one storage binding). */
  readonly largestWeightBytes: number;
  /** The largest single activation tensor, per input pixel of this graph. */
  readonly largestActivation: DloralCost;
  /** All activations alive at the worst moment of one run, per input pixel. */
  readonly peakActivation: DloralCost;
  /** VAE graphs only, optional: without it, tiles normalise with their own statistics. */
  readonly groupNormSync?: GroupNormSync;
}

export interface DloralExtra {
  readonly format: typeof DLORAL_FORMAT;
  readonly latentChannels: number;
  /** SD's scaling factor (0.18215). */
  readonly latentScale: number;
  /** The encoder graph returns mean * latentScale (not the raw mean). */
  readonly encoderOutputScaled: true;
  /** The decoder graph divides its input by latentScale itself. */
  readonly decoderInputScaled: true;
  /** The decoder graph clamps its output to [-1, 1]. */
  readonly decoderClamps: true;
  /** Released `process_size`: frames whose short side is under processSize / scale are enlarged. */
  readonly processSize: number;
  readonly timestep: number;
  readonly latentTile: { readonly size: number; readonly overlap: number };
  /** Released defaults: VAE encoder tiles in pixels, decoder tiles in latent pixels. */
  readonly vaeEncoderTile: number;
  readonly vaeDecoderTile: number;
  readonly cfr: {
    readonly json: string;
    readonly bin: string;
    readonly topK: number | 'all';
    /** heads x head size (576 in DLoRAL), for the memory plan. */
    readonly channels: number;
  };
  readonly prompt: {
    readonly path: string;
    readonly text: string;
    readonly shape: readonly [1, number, number];
  };
  readonly spynet?: DloralGraph;
  readonly vaeEncoder: DloralGraph;
  readonly unet: DloralGraph;
  readonly vaeDecoder: DloralGraph;
}

function fail(where: string, what: string): never {
  throw new UpframeError('MODEL_LOAD_FAILED', `${where}: extra.dloral.${what}`);
}

function num(o: Record<string, unknown>, key: string, where: string, min = 0): number {
  const v = o[key];
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min)
    fail(where, `${key} must be >= ${min}`);
  return v;
}

function obj(v: unknown, field: string, where: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v))
    fail(where, `${field} must be an object`);
  return v as Record<string, unknown>;
}

function str(o: Record<string, unknown>, key: string, where: string): string {
  const v = o[key];
  if (typeof v !== 'string' || v === '') fail(where, `${key} must be a non-empty string`);
  return v;
}

function readTensor(v: unknown, field: string, where: string): DloralTensor {
  const o = obj(v, field, where);
  const shape = o['shape'];
  if (
    !Array.isArray(shape) ||
    !shape.every(
      (d) => (typeof d === 'number' && Number.isInteger(d) && d > 0) || typeof d === 'string',
    )
  ) {
    fail(where, `${field}.shape must list positive integers or symbols`);
  }
  const dtype = o['dtype'];
  if (dtype !== 'float32' && dtype !== 'float16')
    fail(where, `${field}.dtype must be float32 or float16`);
  return {
    name: str(o, 'name', where),
    shape: shape as (number | string)[],
    dtype,
    range: str(o, 'range', where),
  };
}

function readCost(v: unknown, field: string, where: string): DloralCost {
  const o = obj(v, field, where);
  return { linear: num(o, 'linear', where), quadratic: num(o, 'quadratic', where) };
}

function readSync(
  v: unknown,
  field: string,
  where: string,
  graph: Omit<DloralGraph, 'groupNormSync'>,
): GroupNormSync {
  const o = obj(v, field, where);
  const count = o['count'];
  if (typeof count !== 'number' || !Number.isInteger(count) || count < 2 || count % 2 !== 0)
    fail(where, `${field}.count must be an even integer >= 2`);
  const sync = {
    statsIn: str(o, 'statsIn', where),
    statsOut: str(o, 'statsOut', where),
    mix: str(o, 'mix', where),
    count,
  };
  const has = (side: 'inputs' | 'outputs', name: string, shape: readonly number[]): void => {
    const t = graph[side].find((x) => x.name === name);
    if (!t || t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i]))
      fail(where, `${field}: ${side} must list "${name}" with shape [${shape.join(', ')}]`);
  };
  has('inputs', sync.statsIn, [count]);
  has('inputs', sync.mix, []);
  has('outputs', sync.statsOut, [count]);
  return sync;
}

function readGraph(v: unknown, field: string, where: string, vae = false): DloralGraph {
  const o = obj(v, field, where);
  const list = (key: 'inputs' | 'outputs') => {
    const a = o[key];
    if (!Array.isArray(a) || a.length === 0)
      fail(where, `${field}.${key} must be a non-empty array`);
    return a.map((t, i) => readTensor(t, `${field}.${key}[${i}]`, where));
  };
  const graph = {
    path: str(o, 'path', where),
    inputs: list('inputs'),
    outputs: list('outputs'),
    weightBytes: num(o, 'weightBytes', where),
    largestWeightBytes: num(o, 'largestWeightBytes', where),
    largestActivation: readCost(o['largestActivation'], `${field}.largestActivation`, where),
    peakActivation: readCost(o['peakActivation'], `${field}.peakActivation`, where),
  };
  if (o['groupNormSync'] === undefined) return graph;
  if (!vae) fail(where, `${field}.groupNormSync is only for the VAE graphs`);
  return {
    ...graph,
    groupNormSync: readSync(o['groupNormSync'], `${field}.groupNormSync`, where, graph),
  };
}

/** Reads and checks `manifest.extra.dloral`; every failure names the field. */
export function dloralExtra(manifest: PackManifest): DloralExtra {
  const where = `${manifest.name}/manifest.json`;
  if (manifest.kind !== 'dloral') fail(where, `kind is "${manifest.kind}", not "dloral"`);
  const o = obj(manifest.extra?.['dloral'], 'dloral', where);
  if (o['format'] !== DLORAL_FORMAT) fail(where, `format must be "${DLORAL_FORMAT}"`);
  for (const key of ['encoderOutputScaled', 'decoderInputScaled', 'decoderClamps']) {
    if (o[key] !== true) fail(where, `${key} must be true (the pipeline relies on it)`);
  }
  const tile = obj(o['latentTile'], 'latentTile', where);
  const cfr = obj(o['cfr'], 'cfr', where);
  const topK = cfr['topK'];
  if (topK !== 'all' && !(typeof topK === 'number' && Number.isInteger(topK) && topK > 0)) {
    fail(where, 'cfr.topK must be "all" or a positive integer');
  }
  const prompt = obj(o['prompt'], 'prompt', where);
  const pshape = prompt['shape'];
  if (!Array.isArray(pshape) || pshape.length !== 3 || pshape[0] !== 1) {
    fail(where, 'prompt.shape must be [1, tokens, width]');
  }
  const extra: DloralExtra = {
    format: DLORAL_FORMAT,
    latentChannels: num(o, 'latentChannels', where, 1),
    latentScale: num(o, 'latentScale', where),
    encoderOutputScaled: true,
    decoderInputScaled: true,
    decoderClamps: true,
    processSize: num(o, 'processSize', where, 8),
    timestep: num(o, 'timestep', where),
    latentTile: { size: num(tile, 'size', where, 8), overlap: num(tile, 'overlap', where) },
    vaeEncoderTile: num(o, 'vaeEncoderTile', where, 64),
    vaeDecoderTile: num(o, 'vaeDecoderTile', where, 8),
    cfr: {
      json: str(cfr, 'json', where),
      bin: str(cfr, 'bin', where),
      topK: topK,
      channels: num(cfr, 'channels', where, 1),
    },
    prompt: {
      path: str(prompt, 'path', where),
      text: typeof prompt['text'] === 'string' ? prompt['text'] : '',
      shape: pshape as [1, number, number],
    },
    vaeEncoder: readGraph(o['vaeEncoder'], 'vaeEncoder', where, true),
    unet: readGraph(o['unet'], 'unet', where),
    vaeDecoder: readGraph(o['vaeDecoder'], 'vaeDecoder', where, true),
  };
  if (o['spynet'] !== undefined)
    return { ...extra, spynet: readGraph(o['spynet'], 'spynet', where) };
  return extra;
}

/** The first input/output name of a graph (the pipelines feed graphs by these names). */
export function ioName(graph: DloralGraph, side: 'inputs' | 'outputs', index = 0): string {
  const t = graph[side][index];
  if (!t) throw new UpframeError('MODEL_LOAD_FAILED', `${graph.path}: no ${side}[${index}]`);
  return t.name;
}

import {
  dloralGeometry,
  planLatentTiles,
  planVaeTiles,
  VAE_DECODER_OVERLAP,
  VAE_ENCODER_OVERLAP,
  type DloralGeometry,
  type LatentTilePlan,
  type VaeTilePlan,
} from './dloral-tiles.ts';

export * from './dloral-tiles.ts';

export interface DloralLimits {
  readonly maxBufferSize: number;
  readonly maxStorageBufferBindingSize: number;
  /**
   * What the device may hold in total, when known (a user setting or a measured budget);
   * WebGPU does not report it, so without it only the per-buffer limits are checked.
   */
  readonly memoryBudgetBytes?: number;
}

export interface DloralTileOverrides {
  /** Force smaller tiles (tests, or a user's tile setting), in latent pixels. */
  readonly latentTile?: number;
  readonly vaeEncoderTile?: number;
  readonly vaeDecoderTile?: number;
  /**
   * false: VAE tiles normalise with their own GroupNorm statistics even when the graphs declare
   * the sync contract (tests compare the two).
   */
  readonly groupNormSync?: boolean;
}

export interface DloralMemoryPlan {
  readonly geometry: DloralGeometry;
  /** CFR + UNet tiles, and the VAE tiles (all in latent pixels). */
  readonly latentTiles: LatentTilePlan;
  readonly encoderTiles: VaeTilePlan;
  readonly decoderTiles: VaeTilePlan;
  /**
   * Per VAE graph: its tiles share GroupNorm statistics from a whole-frame pass (the graph has
   * the contract and the frame needs more than one tile).
   */
  readonly encoderSync: boolean;
  readonly decoderSync: boolean;
  /** The pipeline's own GPU buffers for this frame size, with their sizes. */
  readonly buffers: readonly { readonly name: string; readonly bytes: number }[];
  readonly pipelineBytes: number;
  readonly weightBytes: number;
  /** The largest graph activation peak (graphs run one after another). */
  readonly activationBytes: number;
  readonly peakBytes: number;
}

/** The released overlap (32 of 96); smaller tiles keep the same one-third proportion. */
export function latentOverlap(extra: DloralExtra, tile: number): number {
  return tile >= extra.latentTile.size
    ? extra.latentTile.overlap
    : Math.min(extra.latentTile.overlap, Math.floor(tile / 3));
}

const costAt = (c: DloralCost, pixels: number): number =>
  c.linear * pixels + c.quadratic * pixels * pixels;

function oom(message: string): never {
  throw new UpframeError('OUT_OF_MEMORY', message);
}

const mb = (bytes: number): string => `${Math.ceil(bytes / 2 ** 20)} MB`;

/** Largest tile side (latent pixels, a multiple of `step`, at most `max`) whose tensors fit. */
function fitTile(max: number, step: number, fits: (t: number) => boolean): number {
  for (let t = Math.max(step, Math.floor(max / step) * step); t >= step; t -= step)
    if (fits(t)) return t;
  return 0;
}

/**
 * Everything a job will hold on the device for frames of `frameWidth` x `frameHeight`, the tile
 * sizes chosen so every tensor fits one storage binding, and an OUT_OF_MEMORY error with a
 * sentence BEFORE any work when the adapter cannot hold the model at all.
 */
export function planDloralMemory(
  manifest: PackManifest,
  frame: { readonly width: number; readonly height: number },
  limits: DloralLimits,
  overrides: DloralTileOverrides = {},
): DloralMemoryPlan {
  const extra = dloralExtra(manifest);
  const g = dloralGeometry(frame.width, frame.height, manifest.scale, extra.processSize);
  const binding = Math.min(limits.maxStorageBufferBindingSize, limits.maxBufferSize);
  const graphs = [
    extra.vaeEncoder,
    extra.unet,
    extra.vaeDecoder,
    ...(extra.spynet ? [extra.spynet] : []),
  ];
  for (const graph of graphs) {
    if (graph.largestWeightBytes > binding) {
      oom(
        `This GPU cannot hold the model ${manifest.title}: one weight of ${graph.path} needs ${mb(graph.largestWeightBytes)} but the GPU allows ${mb(binding)} per buffer.`,
      );
    }
  }
  const weightBytes = graphs.reduce((a, b) => a + b.weightBytes, 0);
  const lc = extra.latentChannels;
  const cfrChannels = extra.cfr.channels;
  const lw = g.latentWidth;
  const lh = g.latentHeight;

  // CFR + UNet tile: the UNet input is 8 latent channels; the CFR keeps 4 projections of 576.
  const latentFits = (t: number): boolean => {
    const p = t * t;
    return costAt(extra.unet.largestActivation, p) <= binding && cfrChannels * p * 4 <= binding;
  };
  const forced = overrides.latentTile;
  const latentTile =
    forced !== undefined
      ? latentFits(forced)
        ? forced
        : 0
      : fitTile(extra.latentTile.size, 8, latentFits);
  if (latentTile === 0) {
    oom(
      `This GPU's buffers (${mb(binding)} each) are too small for even the smallest diffusion tile of ${manifest.title}.`,
    );
  }
  const encMax =
    Math.min(overrides.vaeEncoderTile ?? extra.vaeEncoderTile, extra.vaeEncoderTile) / 8;
  const vaeEncoderTile = fitTile(
    encMax,
    Math.min(8, encMax),
    (t) => costAt(extra.vaeEncoder.largestActivation, t * t * 64) <= binding,
  );
  const decMax = Math.min(overrides.vaeDecoderTile ?? extra.vaeDecoderTile, extra.vaeDecoderTile);
  const vaeDecoderTile = fitTile(
    decMax,
    Math.min(8, decMax),
    (t) => costAt(extra.vaeDecoder.largestActivation, t * t) <= binding,
  );
  if (vaeEncoderTile === 0 || vaeDecoderTile === 0) {
    oom(
      `This GPU's buffers (${mb(binding)} each) are too small for even the smallest VAE tile of ${manifest.title}.`,
    );
  }
  const lt = planLatentTiles(lw, lh, latentTile, latentOverlap(extra, latentTile));
  const ltp = lt.tileWidth * lt.tileHeight;
  const enc = planVaeTiles(lw, lh, vaeEncoderTile, VAE_ENCODER_OVERLAP);
  const dec = planVaeTiles(lw, lh, vaeDecoderTile, VAE_DECODER_OVERLAP);
  const encP = enc.tileWidth * enc.tileHeight;
  const decP = dec.tileWidth * dec.tileHeight;
  const plane = g.width * g.height;
  const latent = lw * lh;
  const f4 = 4;
  const syncOn = overrides.groupNormSync ?? true;
  const encoderSync = syncOn && enc.tiles.length > 1 && !!extra.vaeEncoder.groupNormSync;
  const decoderSync = syncOn && dec.tiles.length > 1 && !!extra.vaeDecoder.groupNormSync;
  // the statistics and the zeros fed to the statistics pass, per graph with the contract
  const statsFloats =
    2 *
    ((extra.vaeEncoder.groupNormSync?.count ?? 0) + (extra.vaeDecoder.groupNormSync?.count ?? 0));
  const buffers = [
    { name: 'input frame (RGBA)', bytes: g.inputWidth * g.inputHeight * 4 },
    { name: 'LQ tensor', bytes: 3 * g.inputWidth * g.inputHeight * f4 },
    { name: 'upsampled LQ', bytes: 3 * plane * f4 },
    { name: 'flow frames (current, previous)', bytes: 2 * 3 * latent * f4 },
    { name: 'flow', bytes: 2 * latent * f4 },
    { name: 'latents (current, previous, warped)', bytes: 3 * lc * latent * f4 },
    { name: 'x0 accumulator and weights', bytes: (lc + 1) * latent * f4 },
    { name: 'x0', bytes: lc * latent * f4 },
    { name: 'CFR + UNet tile (inputs, fused, UNet in/out)', bytes: (4 * lc + 2 * lc) * ltp * f4 },
    { name: 'CFR projections', bytes: 4 * cfrChannels * ltp * f4 },
    { name: 'VAE encoder tile in/out', bytes: (3 * 64 + lc) * encP * f4 },
    { name: 'VAE decoder tile in/out', bytes: (lc + 3 * 64) * decP * f4 },
    {
      name: 'decoded image (+ accumulator)',
      bytes: (enc.tiles.length > 1 || dec.tiles.length > 1 ? 7 : 3) * plane * f4,
    },
    { name: 'colour-fixed image', bytes: 3 * plane * f4 },
    {
      name: 'output (resize, RGBA texture, readback)',
      bytes: g.outputWidth * g.outputHeight * (3 * f4 + 8),
    },
    { name: 'prompt context', bytes: extra.prompt.shape[1] * extra.prompt.shape[2] * f4 },
    ...(statsFloats > 0 ? [{ name: 'VAE GroupNorm statistics', bytes: statsFloats * f4 }] : []),
  ];
  const largestBuffer = Math.max(...buffers.map((b) => b.bytes));
  if (largestBuffer > binding) {
    oom(
      `Frames of ${frame.width}x${frame.height} are too large for this GPU: one ${mb(largestBuffer)} buffer is over its ${mb(binding)} limit. Use a shorter side or a smaller clip.`,
    );
  }
  const pipelineBytes = buffers.reduce((a, b) => a + b.bytes, 0);
  const activationBytes = Math.max(
    costAt(extra.vaeEncoder.peakActivation, encP * 64),
    costAt(extra.unet.peakActivation, ltp),
    costAt(extra.vaeDecoder.peakActivation, decP),
    extra.spynet ? costAt(extra.spynet.peakActivation, latent) : 0,
  );
  const peakBytes = weightBytes + activationBytes + pipelineBytes;
  if (limits.memoryBudgetBytes !== undefined && peakBytes > limits.memoryBudgetBytes) {
    oom(
      `${manifest.title} needs about ${mb(peakBytes)} of GPU memory for ${frame.width}x${frame.height} frames (${mb(weightBytes)} of weights), more than the ${mb(limits.memoryBudgetBytes)} available.`,
    );
  }
  return {
    geometry: g,
    latentTiles: lt,
    encoderTiles: enc,
    decoderTiles: dec,
    encoderSync,
    decoderSync,
    buffers,
    pipelineBytes,
    weightBytes,
    activationBytes,
    peakBytes,
  };
}

export interface DloralParts {
  readonly extra: DloralExtra;
  readonly cfr: CfrWeights;
  readonly prompt: Float32Array<ArrayBuffer>;
  file(path: string): Uint8Array;
}

/** The pack's files resolved and checked: CFR weights parsed, prompt context as floats. */
export function readDloralPack(pack: LoadedPack): DloralParts {
  const extra = dloralExtra(pack.manifest);
  const file = (path: string): Uint8Array => {
    const bytes = pack.files.get(path);
    if (!bytes) {
      throw new UpframeError('MODEL_LOAD_FAILED', `${pack.manifest.name}: ${path} is missing.`);
    }
    return bytes;
  };
  const cfr = parseCfrPack(new TextDecoder().decode(file(extra.cfr.json)), file(extra.cfr.bin));
  if (cfr.config.inChannels !== extra.latentChannels) {
    throw new UpframeError(
      'MODEL_LOAD_FAILED',
      `${pack.manifest.name}: CFR works on ${cfr.config.inChannels} channels, the latents have ${extra.latentChannels}.`,
    );
  }
  const raw = file(extra.prompt.path);
  const [, tokens, width] = extra.prompt.shape;
  if (raw.byteLength !== tokens * width * 4) {
    throw new UpframeError(
      'MODEL_LOAD_FAILED',
      `${pack.manifest.name}: ${extra.prompt.path} has ${raw.byteLength} bytes, expected ${tokens * width * 4} (float32 [1, ${tokens}, ${width}]).`,
    );
  }
  const prompt = new Float32Array(raw.slice().buffer);
  return { extra, cfr, prompt, file };
}
