import { describe, expect, it } from 'vitest';
import { UpframeError } from '../shared/errors.ts';
import { parseManifest, parsePackIndex, sha256Hex, verifyFile } from './manifest.ts';
import type { PackFile } from './manifest.ts';

// SHA-256 of the ASCII bytes "abc" (FIPS 180-2, appendix B.1).
const ABC_SHA256 = 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad';

function validManifest(): Record<string, unknown> {
  return {
    format: 'upframe-pack-1',
    name: 'esrgan-medium-x4',
    title: 'ESRGAN medium x4 (UpscalerJS)',
    kind: 'sr',
    scale: 4,
    licence: 'MIT',
    source: '@upscalerjs/esrgan-medium@1.0.0 models/x4',
    description: 'test',
    files: [{ path: 'model.onnx', bytes: 3, sha256: ABC_SHA256, role: 'model' }],
    inputs: [
      { name: 'input', dtype: 'float32', shape: [1, 3, 'h', 'w'], layout: 'NCHW', range: '0,255' },
    ],
    outputs: [
      {
        name: 'output',
        dtype: 'float32',
        shape: [1, 3, 'h*4', 'w*4'],
        layout: 'NCHW',
        range: '0,255',
      },
    ],
    tile: { multiple: 1, minSize: 8, preferred: 128, overlap: 8 },
    cost: {
      params: 123456,
      flopsPerInputPixel: 12345,
      measured: [
        {
          backend: 'wasm',
          threads: 1,
          inputWidth: 320,
          inputHeight: 180,
          ms: 12.5,
          where: 'node',
        },
      ],
    },
    extra: { architecture: 'rdn' },
  };
}

function errorOf(fn: () => unknown): UpframeError {
  try {
    fn();
  } catch (err) {
    if (err instanceof UpframeError) return err;
    throw err;
  }
  throw new Error('expected an UpframeError');
}

describe('parseManifest', () => {
  it('accepts a complete manifest and keeps every field', () => {
    const json = validManifest();
    const m = parseManifest(json, 'packs/esrgan-medium-x4');
    expect(m).toEqual(json);
  });

  it('accepts a manifest without the optional tile, cost and extra', () => {
    const json = validManifest();
    delete json['tile'];
    delete json['cost'];
    delete json['extra'];
    const m = parseManifest(json, 'p');
    expect(m.tile).toBeUndefined();
    expect(m.cost).toBeUndefined();
    expect(m.extra).toBeUndefined();
    expect(m.inputs[0]?.shape).toEqual([1, 3, 'h', 'w']);
  });

  const broken: [string, (j: Record<string, unknown>) => void, string][] = [
    ['format', (j) => (j['format'] = 'upframe-pack-0'), 'format must be "upframe-pack-1"'],
    ['kind', (j) => (j['kind'] = 'gan'), 'kind must be one of "sr", "dloral", "lite"'],
    ['scale', (j) => (j['scale'] = 0), 'scale must be an integer >= 1'],
    ['name', (j) => (j['name'] = 'ESRGAN x4'), 'name "ESRGAN x4" must be lower-case'],
    ['files', (j) => (j['files'] = []), 'files must have at least 1 entries'],
    [
      'files[0].sha256',
      (j) => ((j['files'] as Record<string, unknown>[])[0]!['sha256'] = 'abc'),
      'files[0].sha256 must be 64 lower-case hex digits',
    ],
    [
      'files[0].path',
      (j) => ((j['files'] as Record<string, unknown>[])[0]!['path'] = '../secret'),
      'files[0].path "../secret" must be a relative path',
    ],
    [
      'files[0].role',
      (j) => ((j['files'] as Record<string, unknown>[])[0]!['role'] = 'weights'),
      'files must contain a file with role "model"',
    ],
    [
      'inputs[0].range',
      (j) => ((j['inputs'] as Record<string, unknown>[])[0]!['range'] = '0,65535'),
      'inputs[0].range must be one of "0,255", "0,1", "-1,1"',
    ],
    [
      'outputs[0].shape[2]',
      (j) => ((j['outputs'] as Record<string, unknown>[])[0]!['shape'] = [1, 3, 'h+4', 'w']),
      'outputs[0].shape[2] must be a positive integer or a symbol',
    ],
    [
      'inputs[0].shape',
      (j) => ((j['inputs'] as Record<string, unknown>[])[0]!['shape'] = [3, 'h', 'w']),
      'inputs[0].shape must have 4 dimensions',
    ],
    [
      'tile.preferred',
      (j) => (j['tile'] = { multiple: 8, minSize: 8, preferred: 100, overlap: 8 }),
      'tile.preferred must be a multiple of tile.multiple',
    ],
    [
      'cost.measured[0].threads',
      (j) => (j['cost'] = { params: 1, flopsPerInputPixel: 1, measured: [{ backend: 'wasm' }] }),
      'cost.measured[0].threads must be an integer',
    ],
    ['extra', (j) => (j['extra'] = [1]), 'extra must be an object'],
  ];
  for (const [field, breakIt, message] of broken) {
    it(`names the broken field: ${field}`, () => {
      const json = validManifest();
      breakIt(json);
      const err = errorOf(() => parseManifest(json, 'packs/x'));
      expect(err.code).toBe('MODEL_LOAD_FAILED');
      expect(err.message).toContain('packs/x/manifest.json: ');
      expect(err.message).toContain(message);
    });
  }

  it('rejects a non-object and duplicate tensor names', () => {
    expect(errorOf(() => parseManifest(null, 'a')).message).toBe(
      'a/manifest.json: manifest must be an object',
    );
    const json = validManifest();
    const input = (json['inputs'] as unknown[])[0];
    json['inputs'] = [input, input];
    expect(errorOf(() => parseManifest(json, 'a')).message).toContain('inputs lists "input" twice');
  });
});

describe('parsePackIndex', () => {
  const entry = { name: 'a', title: 'A', kind: 'sr', scale: 4, bytes: 10, default: true };

  it('accepts an index with one default', () => {
    const json = {
      format: 'upframe-pack-index-1',
      packs: [entry, { ...entry, name: 'b', default: false }],
    };
    expect(parsePackIndex(json, 'packs')).toEqual(json);
  });

  it('requires exactly one default', () => {
    const json = { format: 'upframe-pack-index-1', packs: [entry, { ...entry, name: 'b' }] };
    const err = errorOf(() => parsePackIndex(json, 'packs'));
    expect(err.message).toBe(
      'packs/index.json: packs must mark at most one default pack per scale (two at x4)',
    );
  });
});

describe('verifyFile', () => {
  const abc = new TextEncoder().encode('abc');
  const entry: PackFile = { path: 'model.onnx', bytes: 3, sha256: ABC_SHA256, role: 'model' };

  it('computes the FIPS test vector', async () => {
    expect(await sha256Hex(abc)).toBe(ABC_SHA256);
    expect(await sha256Hex(abc.slice().buffer)).toBe(ABC_SHA256);
  });

  it('accepts the right bytes', async () => {
    await expect(verifyFile(abc.slice().buffer, entry)).resolves.toBeUndefined();
  });

  it('names the file on a sha256 mismatch', async () => {
    const wrong = new TextEncoder().encode('abd').buffer;
    const err = await verifyFile(wrong, entry).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(UpframeError);
    expect((err as UpframeError).code).toBe('MODEL_INTEGRITY');
    expect((err as UpframeError).message).toMatch(/^model\.onnx: sha256 mismatch/);
  });

  it('names the file on a size mismatch', async () => {
    await expect(verifyFile(new ArrayBuffer(4), entry)).rejects.toThrow(
      'model.onnx: size mismatch (expected 3 bytes, got 4)',
    );
  });
});

describe('loadPack from an address', () => {
  it('an empty address is said as that, not as a 404 of some file', async () => {
    const { loadPack } = await import('./packs.ts');
    await expect(loadPack({ type: 'url', url: '  ' })).rejects.toMatchObject({
      code: 'MODEL_LOAD_FAILED',
      message: expect.stringContaining('No model pack address was given') as unknown,
    });
  });
});
