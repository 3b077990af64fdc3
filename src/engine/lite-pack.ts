/**
 * The `lite` pack contract (models/lite/README.md, "Architecture and the inference contract"),
 * shared by the WebGPU and the wasm pipelines: which files hold what, the CFR settings, the ORT
 * sessions, and the tile plan.
 *
 * Tiling: the encoder, flow, warp and CFR run on the WHOLE frame, only the generator is tiled.
 * The temporal state (the previous frame's features and LQ frame) is then one frame-sized buffer
 * with no seams, the flow sees the whole picture, and the encoder's and CFR's outputs are exact;
 * the generator, which holds nearly all the weights and the only x4-sized tensors, is the part
 * that outgrows a binding. The whole-frame part needs 32 channels x 4 bytes per LQ pixel in one
 * binding (the encoder's widest activation), so LQ frames up to ~1 M pixels (1280x720 -> 4K out)
 * fit the default 128 MiB limit; larger ones fail with RESOLUTION_TOO_LARGE before any work.
 */
import { parseCfrPack, type CfrWeights } from '../kernels/cfr-attention/cfr-weights.ts';
import type { FlowOptions } from '../kernels/flow/flow.ts';
import { UpframeError } from '../shared/errors.ts';
import { Session, type Backend } from './ort.ts';
import type { LoadedPack } from './packs.ts';
import { chooseTileSize, planTiles, type TilePlan } from './tiling.ts';

/**
 * Lucas-Kanade settings for the LQ frames in [0, 1], RGB (the kernel reduces to BT.601 luma
 * itself, so no separate luma pass). On the reference pair shifted by known sub-pixel and 1-2 px
 * translations (28x20, one pyramid level) radius 4 with lambda 1e-4 had the smallest interior
 * end-point error (0.26 px at 0.7 px shift, 0.87 px at 1.8 px, vs 0.23 / 1.52 with the default
 * 1e-3); 3e-4 keeps noisy flat regions from wandering on real footage.
 */
export const LITE_FLOW = { channels: 3, radius: 4, lambda: 3e-4 } as const satisfies Omit<
  FlowOptions,
  'width' | 'height'
>;

/** Tensor names of the two graphs (the pack's contract). */
export const LITE_IO = {
  encoderIn: 'lq',
  encoderOut: 'features',
  generatorFused: 'fused',
  generatorLq: 'lq',
  generatorOut: 'hr',
} as const;

/** The encoder's widest activation (upframe-lite-1: conv3x3 3->32, 32->32, 32->16). */
const ENCODER_WIDTH = 32;
/**
 * The generator's widest tensor in channels per LQ pixel, when the manifest does not say
 * (`extra.generator.widestChannels`): upframe-lite-1 packs have 32 hidden channels and 3 x 16
 * before the x4 pixel shuffle.
 */
const DEFAULT_GENERATOR_WIDTH = 48;

export interface LiteParts {
  readonly name: string;
  readonly title: string;
  readonly scale: number;
  /** Feature channels (CFR inChannels). */
  readonly channels: number;
  readonly cfr: CfrWeights;
  readonly topK: number;
  readonly radius: number;
  /**
   * cfr.json `reference`: "features" (or absent) warps frame n-1's encoder features; "fused"
   * (recurrent) warps what the CFR gave for frame n-1, so the state carries earlier frames too.
   */
  readonly recurrent: boolean;
  readonly encoder: Uint8Array;
  readonly generator: Uint8Array;
  readonly overlap: number;
  readonly preferredTile: number;
  readonly minTile: number;
  /** The generator's widest tensor, channels per LQ pixel (plans the tile size). */
  readonly generatorWidth: number;
}

function fail(pack: LoadedPack, message: string): never {
  throw new UpframeError('MODEL_LOAD_FAILED', `${pack.manifest.name}: ${message}`);
}

export function readLitePack(pack: LoadedPack): LiteParts {
  const { manifest } = pack;
  if (manifest.kind !== 'lite') fail(pack, `a "${manifest.kind}" pack is not a lite pack.`);
  const file = (path: string): Uint8Array => {
    const bytes = pack.files.get(path);
    if (!bytes) fail(pack, `the pack has no ${path}.`);
    return bytes;
  };
  const cfr = parseCfrPack(new TextDecoder().decode(file('cfr.json')), file('cfr.bin'));
  const json = JSON.parse(new TextDecoder().decode(file('cfr.json'))) as Record<string, unknown>;
  const topK = json['topK'];
  const radius = json['radius'];
  if (typeof topK !== 'number' || !Number.isInteger(topK) || topK < 1)
    fail(pack, 'cfr.json has no valid topK.');
  if (typeof radius !== 'number' || !Number.isInteger(radius) || radius < 0)
    fail(pack, 'cfr.json has no valid radius.');
  const reference = json['reference'] ?? 'features';
  if (reference !== 'features' && reference !== 'fused')
    fail(pack, 'cfr.json: reference must be "features" or "fused".');
  const hints = manifest.tile ?? { multiple: 1, minSize: 16, preferred: 128, overlap: 12 };
  const generator = manifest.extra?.['generator'] as { widestChannels?: unknown } | undefined;
  const widest = generator?.widestChannels ?? DEFAULT_GENERATOR_WIDTH;
  if (typeof widest !== 'number' || !Number.isInteger(widest) || widest < 3 * manifest.scale ** 2)
    fail(pack, 'extra.generator.widestChannels must be a whole number of at least 3 x scale².');
  return {
    name: manifest.name,
    title: manifest.title,
    scale: manifest.scale,
    channels: cfr.config.inChannels,
    cfr,
    topK,
    radius,
    recurrent: reference === 'fused',
    encoder: file('encoder.onnx'),
    generator: file('generator.onnx'),
    overlap: hints.overlap,
    preferredTile: hints.preferred,
    minTile: hints.minSize,
    generatorWidth: widest,
  };
}

export interface LiteLimits {
  readonly maxStorageBufferBindingSize: number;
  readonly maxTextureDimension2D: number;
  /** What sets the limits, as the refusal names it: 'this GPU' by default. */
  readonly owner?: string;
}

/** The wasm backend has no binding limit; 1 GiB keeps the same rules (and wasm's memory). */
export const LITE_WASM_LIMITS: LiteLimits = {
  maxStorageBufferBindingSize: 2 ** 30,
  maxTextureDimension2D: 16384,
  owner: 'the CPU path (wasm)',
};

export interface LitePlan {
  readonly width: number;
  readonly height: number;
  readonly scale: number;
  readonly outputWidth: number;
  readonly outputHeight: number;
  /** Generator tiles in LQ pixels. */
  readonly tiles: TilePlan;
}

export function planLite(
  parts: LiteParts,
  size: { width: number; height: number },
  limits: LiteLimits,
  tileSize?: number,
): LitePlan {
  const { width, height } = size;
  const s = parts.scale;
  const owner = limits.owner ?? 'this GPU';
  if (!(Number.isInteger(width) && Number.isInteger(height) && width >= 4 && height >= 4)) {
    throw new UpframeError(
      'INVALID_OPTION',
      `A ${width}x${height} frame is too small for ${parts.title}.`,
    );
  }
  if (width * s > limits.maxTextureDimension2D || height * s > limits.maxTextureDimension2D) {
    throw new UpframeError(
      'RESOLUTION_TOO_LARGE',
      `The enhanced frame would be ${width * s}x${height * s}, larger than ${owner} allows (${limits.maxTextureDimension2D} pixels per side). Choose a smaller scale.`,
    );
  }
  const wholeFrame = Math.max(ENCODER_WIDTH, 3 * s * s) * 4 * width * height;
  if (wholeFrame > limits.maxStorageBufferBindingSize) {
    throw new UpframeError(
      'RESOLUTION_TOO_LARGE',
      `${parts.title} needs ${Math.ceil(wholeFrame / 2 ** 20)} MiB in one ${limits.owner ? 'block of memory' : 'GPU buffer'} for a ${width}x${height} frame; ${owner} allows ${Math.floor(limits.maxStorageBufferBindingSize / 2 ** 20)} MiB. Choose a smaller input size or another model.`,
    );
  }
  const tile =
    tileSize && tileSize > 0
      ? Math.max(parts.minTile, Math.round(tileSize))
      : chooseTileSize({
          maxBindingBytes: limits.maxStorageBufferBindingSize,
          bytesPerInputPixel: parts.generatorWidth * 4,
          preferred: parts.preferredTile,
          multiple: 1,
          minSize: parts.minTile,
        });
  const overlap = Math.min(parts.overlap, Math.floor(tile / 4));
  return {
    width,
    height,
    scale: s,
    outputWidth: width * s,
    outputHeight: height * s,
    tiles: planTiles(width, height, tile, overlap),
  };
}

export interface LiteSessions {
  readonly encoder: Session;
  readonly generator: Session;
}

export async function createLiteSessions(
  parts: LiteParts,
  options: { backend: Backend; device?: GPUDevice },
): Promise<LiteSessions> {
  const device = options.device ? { device: options.device } : {};
  const encoder = await Session.create(parts.encoder, {
    backend: options.backend,
    name: `${parts.title} encoder`,
    ...device,
  });
  const generator = await Session.create(parts.generator, {
    backend: options.backend,
    name: `${parts.title} generator`,
    ...device,
  });
  const has = (s: Session, inputs: string[], output: string) =>
    inputs.every((n) => s.inputNames.includes(n)) && s.outputNames.includes(output);
  if (
    !has(encoder, [LITE_IO.encoderIn], LITE_IO.encoderOut) ||
    !has(generator, [LITE_IO.generatorFused, LITE_IO.generatorLq], LITE_IO.generatorOut)
  ) {
    await encoder.release();
    await generator.release();
    throw new UpframeError(
      'MODEL_LOAD_FAILED',
      `${parts.name}: the graphs' tensors do not match the lite contract (encoder lq -> features, generator fused + lq -> hr).`,
    );
  }
  return { encoder, generator };
}

/** Copies a [C, th, tw] window at (x, y) out of a planar [C, H, W] tensor. */
export function cropPlanar(
  src: Float32Array,
  channels: number,
  size: { width: number; height: number },
  win: { x: number; y: number; width: number; height: number },
  out: Float32Array<ArrayBuffer> = new Float32Array(channels * win.width * win.height),
): Float32Array<ArrayBuffer> {
  for (let c = 0; c < channels; c++)
    for (let j = 0; j < win.height; j++) {
      const from = (c * size.height + win.y + j) * size.width + win.x;
      out.set(src.subarray(from, from + win.width), (c * win.height + j) * win.width);
    }
  return out;
}
