/**
 * `npx tsx models/tiny-dloral/generate.ts [--out models/packs/tiny-dloral] [--spynet]`
 *
 * A tiny `dloral` pack with random, seeded weights and the real pack's contract: the same files,
 * tensor names, ranks, value ranges and op types as models/dloral/export.py writes from the
 * released checkpoint, with small channel counts so the whole pipeline runs in CI on a CPU
 * adapter at a 64x64 output (16x16 input, 8x8 latents). Deterministic: two runs give the same
 * bytes (so the same sha256). The default pack (what scripts/build.mjs serves) has no SpyNet, so
 * the pipelines use the WGSL flow; `--spynet` (or `{ spynet: true }`, or spynet.ts's
 * `withTinySpynet` on a loaded pack) adds the optional spynet.onnx.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomCfrWeights, writeCfrPack } from '../../src/kernels/cfr-attention/cfr-weights.ts';
import { mulberry32 } from '../../src/shared/random.ts';
import {
  DLORAL_FORMAT,
  type DloralExtra,
  type DloralTensor,
} from '../../src/engine/dloral-pack.ts';
import { PACK_FORMAT, type PackFile, type PackManifest } from '../../src/engine/manifest.ts';
import { finishGraph as finish, GraphBuilder, type BuiltGraph } from './graph-builder.ts';
import {
  packWithSpynet,
  SPYNET_SEED_OFFSET,
  TINY_DLORAL_SEED,
  tinySpynet,
  type PackFiles,
} from './spynet.ts';

export const LATENT_SCALE = 0.18215;
const TOKENS = 77;
const CONTEXT = 1024;

/** The GroupNorm sync names of both VAE graphs (the same as models/dloral/export.py's). */
export const GN_SYNC_NAMES = {
  statsIn: 'gn_stats',
  statsOut: 'gn_stats_out',
  mix: 'gn_use_given',
} as const;

/**
 * A VAE graph with the GroupNorm sync contract (the default) or without it (`sync` false: the
 * plain graph, the same weights, which tests compare against at mix = 0).
 */
function vaeGraph(
  b: GraphBuilder,
  sync: boolean,
  path: string,
  input: DloralTensor,
  output: DloralTensor,
): BuiltGraph {
  if (!sync) return finish(b, path, [input], [output]);
  const contract = b.finishSync();
  const any = { dtype: 'float32', range: 'any' } as const;
  const built = finish(
    b,
    path,
    [
      input,
      { name: contract.statsIn, shape: [contract.count], ...any },
      { name: contract.mix, shape: [], ...any },
    ],
    [output, { name: contract.statsOut, shape: [contract.count], ...any }],
  );
  return { ...built, info: { ...built.info, groupNormSync: contract } };
}

/** image [1, 3, H, W] in [-1, 1] -> latent mean * 0.18215 [1, 4, H/8, W/8]. */
function vaeEncoder(seed: number, sync = true): BuiltGraph {
  const b = new GraphBuilder('encoder', seed);
  if (sync) b.syncGroupNorms(GN_SYNC_NAMES);
  let x = b.conv('image', 3, 8, 3, { scale: 1 });
  x = b.resBlock(x, 8, 8, 1);
  // SD's Downsample2D in the VAE: pad right/bottom by one, 3x3 conv with stride 2
  const down = (v: string, cin: number, cout: number, scale: number): string =>
    b.conv(v, cin, cout, 3, { stride: 2, pads: [0, 0, 1, 1], scale });
  x = down(x, 8, 8, 1 / 2);
  x = down(x, 8, 16, 1 / 4);
  x = b.resBlock(x, 16, 16, 1 / 4);
  x = down(x, 16, 16, 1 / 8);
  x = b.resBlock(x, 16, 16, 1 / 8);
  const moments = b.conv(b.silu(b.groupNorm(x, 16, 4, 1 / 8)), 16, 8, 3, { scale: 1 / 8 });
  // quant_conv; SD latents have a std near 1 / 0.18215 before scaling
  const quant = b.conv(moments, 8, 8, 1, { scale: 1 / 8, gain: 1 / LATENT_SCALE });
  const mean = b.op('Slice', [quant, b.constInts([0]), b.constInts([4]), b.constInts([1])]);
  b.rename(b.op('Mul', [mean, b.constFloat('scaling_factor', [], [LATENT_SCALE])]), 'latent');
  return vaeGraph(
    b,
    sync,
    'vae_encoder.onnx',
    { name: 'image', shape: [1, 3, 'H', 'W'], dtype: 'float32', range: '-1,1' },
    { name: 'latent', shape: [1, 4, 'h', 'w'], dtype: 'float32', range: 'latent' },
  );
}

/** latent [1, 4, h, w] (scaled) -> image [1, 3, 8h, 8w] clamped to [-1, 1]. */
function vaeDecoder(seed: number, sync = true): BuiltGraph {
  const b = new GraphBuilder('decoder', seed);
  if (sync) b.syncGroupNorms(GN_SYNC_NAMES);
  const z = b.op('Mul', ['latent', b.constFloat('inv_scaling_factor', [], [1 / LATENT_SCALE])]);
  let x = b.conv(z, 4, 4, 1, { scale: 1, gain: LATENT_SCALE });
  x = b.conv(x, 4, 16, 3, { scale: 1 });
  x = b.resBlock(x, 16, 16, 1);
  x = b.conv(b.upsample2x(x), 16, 16, 3, { scale: 2 });
  x = b.resBlock(x, 16, 8, 2);
  x = b.conv(b.upsample2x(x), 8, 8, 3, { scale: 4 });
  x = b.conv(b.upsample2x(x), 8, 8, 3, { scale: 8 });
  x = b.resBlock(x, 8, 8, 8);
  const img = b.conv(b.silu(b.groupNorm(x, 8, 4, 8)), 8, 3, 3, { scale: 8, gain: 0.6 });
  b.rename(
    b.op('Clip', [img, b.constFloat('clip_min', [], [-1]), b.constFloat('clip_max', [], [1])]),
    'image',
  );
  return vaeGraph(
    b,
    sync,
    'vae_decoder.onnx',
    { name: 'latent', shape: [1, 4, 'h', 'w'], dtype: 'float32', range: 'latent' },
    { name: 'image', shape: [1, 3, 'H', 'W'], dtype: 'float32', range: '-1,1' },
  );
}

/**
 * sample [1, 8, h, w] = [warped z_{n-1} | fused], timestep [1], encoder_hidden_states
 * [1, 77, 1024] -> out_sample [1, 4, h, w]. One level down and up with a skip, a cross-attention,
 * and SD's sinusoidal timestep embedding (flip_sin_to_cos, shift 0) through Linear-SiLU-Linear.
 */
function unet(seed: number): BuiltGraph {
  const b = new GraphBuilder('unet', seed);
  const half = 8;
  const freqs = Array.from({ length: half }, (_, i) => Math.exp((-Math.log(10000) * i) / half));
  const t = b.op('Unsqueeze', ['timestep', b.constInts([1])]);
  const args = b.op('Mul', [t, b.constFloat('time_freqs', [1, half], freqs)]);
  const sinusoid = b.op('Concat', [b.op('Cos', [args]), b.op('Sin', [args])], {
    axis: { kind: 'int', value: 1 },
  });
  const temb = { value: b.linear(b.silu(b.linear(sinusoid, 2 * half, 32)), 32, 32), channels: 32 };
  const context = { value: 'encoder_hidden_states', tokens: TOKENS, width: CONTEXT };
  const x = b.conv('sample', 8, 16, 3, { scale: 1 });
  const r1 = b.resBlock(x, 16, 16, 1, temb);
  let h = b.conv(r1, 16, 32, 3, { stride: 2, scale: 1 / 2 });
  h = b.resBlock(h, 32, 32, 1 / 2, temb);
  h = b.crossAttention(h, 32, context, 16, 1 / 2);
  h = b.resBlock(h, 32, 32, 1 / 2, temb);
  h = b.conv(b.upsampleLike(h, 32, r1), 32, 16, 3, { scale: 1 });
  h = b.op('Concat', [h, r1], { axis: { kind: 'int', value: 1 } });
  h = b.resBlock(h, 32, 16, 1, temb);
  h = b.crossAttention(h, 16, context, 16, 1);
  const out = b.conv(b.silu(b.groupNorm(h, 16, 4, 1)), 16, 4, 3, { scale: 1, gain: 0.3 });
  b.rename(out, 'out_sample');
  return finish(
    b,
    'unet.onnx',
    [
      { name: 'sample', shape: [1, 8, 'h', 'w'], dtype: 'float32', range: 'latent' },
      { name: 'timestep', shape: [1], dtype: 'float32', range: 'any' },
      {
        name: 'encoder_hidden_states',
        shape: [1, TOKENS, CONTEXT],
        dtype: 'float32',
        range: 'any',
      },
    ],
    [{ name: 'out_sample', shape: [1, 4, 'h', 'w'], dtype: 'float32', range: 'latent' }],
  );
}

export type GeneratedPack = PackFiles;

export const TINY_CFR = { inChannels: 4, heads: 2, headDim: 8, temperature: 1 } as const;

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

export interface TinyDloralOptions {
  /** Add the optional spynet.onnx (spynet.ts) so the pipelines use it instead of the WGSL flow. */
  readonly spynet?: boolean;
}

/** The pack's two VAE graphs for `seed`; `sync` false gives them without the GroupNorm sync. */
export function tinyVae(
  seed = TINY_DLORAL_SEED,
  sync = true,
): { encoder: BuiltGraph; decoder: BuiltGraph } {
  return { encoder: vaeEncoder(seed + 1, sync), decoder: vaeDecoder(seed + 3, sync) };
}

export function generateTinyDloral(
  seed = TINY_DLORAL_SEED,
  options: TinyDloralOptions = {},
): GeneratedPack {
  const { encoder: enc, decoder: dec } = tinyVae(seed);
  const un = unet(seed + 2);
  const cfr = writeCfrPack(randomCfrWeights(TINY_CFR, seed + 4));
  const rand = mulberry32(seed + 5);
  // a CLIP-like context: unit-variance token features
  const prompt = new Float32Array(TOKENS * CONTEXT);
  for (let i = 0; i < prompt.length; i++) prompt[i] = (rand() * 2 - 1) * Math.sqrt(3);
  const promptBytes = new Uint8Array(prompt.buffer);
  const bodies = new Map<string, { bytes: Uint8Array; role: PackFile['role'] }>([
    ['vae_encoder.onnx', { bytes: enc.bytes, role: 'model' }],
    ['unet.onnx', { bytes: un.bytes, role: 'model' }],
    ['vae_decoder.onnx', { bytes: dec.bytes, role: 'model' }],
    ['cfr.json', { bytes: new TextEncoder().encode(cfr.json), role: 'data' }],
    ['cfr.bin', { bytes: cfr.bin, role: 'weights' }],
    ['prompt.bin', { bytes: promptBytes, role: 'data' }],
  ]);
  const extra: DloralExtra = {
    format: DLORAL_FORMAT,
    latentChannels: 4,
    latentScale: LATENT_SCALE,
    encoderOutputScaled: true,
    decoderInputScaled: true,
    decoderClamps: true,
    // the released 512 is the real model's; 64 keeps 16x16 test frames at their own size
    processSize: 64,
    timestep: 1,
    latentTile: { size: 96, overlap: 32 },
    vaeEncoderTile: 1024,
    vaeDecoderTile: 224,
    cfr: {
      json: 'cfr.json',
      bin: 'cfr.bin',
      topK: 'all',
      channels: TINY_CFR.heads * TINY_CFR.headDim,
    },
    prompt: {
      path: 'prompt.bin',
      text: '(random tokens: tiny test pack)',
      shape: [1, TOKENS, CONTEXT],
    },
    vaeEncoder: enc.info,
    unet: un.info,
    vaeDecoder: dec.info,
  };
  const manifest: PackManifest = {
    format: PACK_FORMAT,
    name: 'tiny-dloral',
    title: 'Tiny DLoRAL (random weights, tests only)',
    kind: 'dloral',
    scale: 4,
    licence: 'MIT',
    source: 'models/tiny-dloral/generate.ts (seeded random weights)',
    description:
      'The DLoRAL pack contract with tiny random networks: encoder returns mean x 0.18215, decoder divides by 0.18215 and clamps to [-1, 1], UNet takes [warped z_(n-1) | fused] with timestep 1 and a [1, 77, 1024] context.',
    files: [...bodies].map(([path, { bytes, role }]) => ({
      path,
      bytes: bytes.byteLength,
      sha256: sha256(bytes),
      role,
    })),
    inputs: [
      { name: 'frame', dtype: 'float32', shape: [1, 3, 'h', 'w'], layout: 'NCHW', range: '0,255' },
    ],
    outputs: [
      {
        name: 'enhanced',
        dtype: 'float32',
        shape: [1, 3, 'h*4', 'w*4'],
        layout: 'NCHW',
        range: '0,255',
      },
    ],
    extra: { dloral: extra },
  };
  const files = new Map<string, Uint8Array>();
  for (const [path, { bytes }] of bodies) files.set(path, bytes);
  files.set('manifest.json', new TextEncoder().encode(`${JSON.stringify(manifest, null, 2)}\n`));
  if (!options.spynet) return { manifest, files };
  const spynet = tinySpynet(seed + SPYNET_SEED_OFFSET);
  return packWithSpynet({ manifest, files }, spynet, sha256(spynet.bytes));
}

function main(argv: readonly string[]): void {
  const at = argv.indexOf('--out');
  const root = resolve(fileURLToPath(new URL('../..', import.meta.url)));
  const out = resolve(
    at >= 0 && argv[at + 1] ? argv[at + 1]! : join(root, 'models', 'packs', 'tiny-dloral'),
  );
  mkdirSync(out, { recursive: true });
  const pack = generateTinyDloral(TINY_DLORAL_SEED, { spynet: argv.includes('--spynet') });
  for (const [path, bytes] of pack.files) writeFileSync(join(out, path), bytes);
  const total = [...pack.files.values()].reduce((a, b) => a + b.byteLength, 0);
  console.log(`tiny-dloral: ${pack.files.size} files, ${total} bytes -> ${out}`);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2));
}
