/**
 * The tiny pack's optional SpyNet: random seeded weights with exactly the I/O contract of the
 * `spynet.onnx` models/dloral/export.py writes (current, previous [1, 3, h, w] in [-1, 1] ->
 * flow [1, 2, h, w], flow(current -> previous) in pixels, plane 0 = dx). No Node imports, so a
 * browser test can add it to the served tiny pack (models/packs/ is built without it).
 */
import type { DloralGraph } from '../../src/engine/dloral-pack.ts';
import type { PackManifest } from '../../src/engine/manifest.ts';
import { finishGraph, GraphBuilder, type BuiltGraph } from './graph-builder.ts';

/** The seed of the tiny pack (generate.ts); the SpyNet uses seed + SPYNET_SEED_OFFSET. */
export const TINY_DLORAL_SEED = 20250710;
export const SPYNET_SEED_OFFSET = 6;
export const SPYNET_PATH = 'spynet.onnx';

/**
 * The coarsest level of the released SpyNet, shrunk: its basic module takes 8 channels
 * [reference, warped support, flow] with flow = 0 there, so Concat(current, previous, zeros) ->
 * Conv 7x7 8->8, ReLU -> Conv 7x7 8->8, ReLU -> Conv 7x7 8->2. (Not a 6-channel concat: ORT-web
 * 1.30's WebGPU Conv miscomputes 6 input channels with 4k outputs, while the real graph has 8.)
 * The last gain keeps flows at a few tenths of a pixel to about one pixel on smooth frames
 * (generate.test.ts measures it).
 */
export function tinySpynet(seed = TINY_DLORAL_SEED + SPYNET_SEED_OFFSET): BuiltGraph {
  const b = new GraphBuilder('spynet', seed);
  const planes = b.op('Slice', ['current', b.constInts([0]), b.constInts([2]), b.constInts([1])]);
  const zeroFlow = b.op('Mul', [planes, b.constFloat('zero', [], [0])]);
  let x = b.op('Concat', ['current', 'previous', zeroFlow], { axis: { kind: 'int', value: 1 } });
  b.track(8, 1);
  x = b.op('Relu', [b.conv(x, 8, 8, 7, { scale: 1, gain: 2 })]);
  x = b.op('Relu', [b.conv(x, 8, 8, 7, { scale: 1, gain: 2 })]);
  b.rename(b.conv(x, 8, 2, 7, { scale: 1, gain: 1 }), 'flow');
  return finishGraph(
    b,
    SPYNET_PATH,
    [
      { name: 'current', shape: [1, 3, 'h', 'w'], dtype: 'float32', range: '-1,1' },
      { name: 'previous', shape: [1, 3, 'h', 'w'], dtype: 'float32', range: '-1,1' },
    ],
    [{ name: 'flow', shape: [1, 2, 'h', 'w'], dtype: 'float32', range: 'any' }],
  );
}

export interface PackFiles {
  readonly manifest: PackManifest;
  /** Path in the pack -> bytes, manifest.json included. */
  readonly files: ReadonlyMap<string, Uint8Array>;
}

/**
 * The pack with `spynet` added: its file listed in the manifest (with the given sha256, hex),
 * `extra.dloral.spynet` set as export.py sets it, manifest.json rewritten.
 */
export function packWithSpynet(pack: PackFiles, spynet: BuiltGraph, sha256: string): PackFiles {
  const info: DloralGraph = spynet.info;
  const dloral = pack.manifest.extra?.['dloral'];
  if (typeof dloral !== 'object' || dloral === null) throw new Error('not a dloral manifest');
  const manifest: PackManifest = {
    ...pack.manifest,
    files: [
      ...pack.manifest.files.filter((f) => f.path !== info.path),
      { path: info.path, bytes: spynet.bytes.byteLength, sha256, role: 'model' },
    ],
    extra: { ...pack.manifest.extra, dloral: { ...dloral, spynet: info } },
  };
  const files = new Map(pack.files);
  files.set(info.path, spynet.bytes);
  files.set('manifest.json', new TextEncoder().encode(`${JSON.stringify(manifest, null, 2)}\n`));
  return { manifest, files };
}

async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const digest = await globalThis.crypto.subtle.digest('SHA-256', bytes.slice());
  return [...new Uint8Array(digest)].map((v) => v.toString(16).padStart(2, '0')).join('');
}

/** The tiny pack (as served or generated) with its SpyNet; works in Node and in the browser. */
export async function withTinySpynet(
  pack: PackFiles,
  seed = TINY_DLORAL_SEED + SPYNET_SEED_OFFSET,
): Promise<PackFiles> {
  const spynet = tinySpynet(seed);
  return packWithSpynet(pack, spynet, await sha256Hex(spynet.bytes));
}
