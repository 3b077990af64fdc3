import * as tf from '@tensorflow/tfjs';
import * as ort from 'onnxruntime-web';
import { beforeAll, describe, expect, it } from 'vitest';
import { randomFloats } from '../../src/shared/random.ts';
import type { KerasLayer, LayersModel } from './layers-model.ts';
import {
  DataType,
  encodeModel,
  floatInitializer,
  IR_VERSION,
  OPSET,
  ProtoWriter,
} from './onnx-writer.ts';
import type { OnnxGraph } from './onnx-writer.ts';
import { bytesField, decodeMessage, fieldsOf, intField, stringField } from './proto-reader.ts';
import { convertLayersModel } from './to-onnx.ts';

// Plain Node has no crossOriginIsolated `self`, so ORT would pick 1 thread anyway; say it.
ort.env.wasm.numThreads = 1;

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const META = { producerName: 'test', producerVersion: '0' };

async function runOnnx(
  model: Uint8Array,
  input: Float32Array,
  dims: readonly number[],
): Promise<{ data: Float32Array; dims: readonly number[] }> {
  const session = await ort.InferenceSession.create(model, { executionProviders: ['wasm'] });
  try {
    const out = await session.run({ input: new ort.Tensor('float32', input, dims) });
    const t = out['output'];
    if (t === undefined) throw new Error('no output');
    return { data: t.data as Float32Array, dims: t.dims };
  } finally {
    await session.release();
  }
}

function nhwcToNchw(x: Float32Array, h: number, w: number, c: number): Float32Array {
  const out = new Float32Array(x.length);
  for (let y = 0; y < h; y++)
    for (let xx = 0; xx < w; xx++)
      for (let k = 0; k < c; k++) out[(k * h + y) * w + xx] = x[(y * w + xx) * c + k]!;
  return out;
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

describe('ProtoWriter', () => {
  it('writes protobuf wire bytes', () => {
    const w = new ProtoWriter();
    w.varint(300);
    w.int(1, 8);
    w.varint(-1);
    w.float(2, 1);
    w.string(1, 'ab');
    w.message(7, (m) => m.int(2, 17));
    expect(Array.from(w.finish())).toEqual([
      0xac, 0x02, 0x08, 0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01, 0x15,
      0x00, 0x00, 0x80, 0x3f, 0x0a, 0x02, 0x61, 0x62, 0x3a, 0x02, 0x10, 0x11,
    ]);
  });

  it('encodes a ModelProto that decodes back field by field', () => {
    const weights = new Float32Array([1.5, -2, 0.25, 3]);
    const graph: OnnxGraph = {
      name: 'g',
      nodes: [
        {
          opType: 'Conv',
          name: 'c',
          inputs: ['input', 'W'],
          outputs: ['output'],
          attributes: {
            pads: { kind: 'ints', value: [0, 1, 0, -1] },
            group: { kind: 'int', value: 1 },
            mode: { kind: 'string', value: 'DCR' },
            alpha: { kind: 'float', value: 0.5 },
          },
        },
      ],
      initializers: [floatInitializer('W', [1, 1, 2, 2], weights)],
      inputs: [{ name: 'input', elemType: DataType.FLOAT, shape: [1, 3, 'h', 'w'] }],
      outputs: [{ name: 'output', elemType: DataType.FLOAT, shape: [1, 3, 'h*4', 'w*4'] }],
    };
    const model = decodeMessage(encodeModel(graph, { ...META, metadata: { licence: 'MIT' } }));
    expect(intField(model, 1)).toEqual([IR_VERSION]);
    expect(stringField(model, 2)).toEqual(['test']);
    const opset = decodeMessage(bytesField(model, 8)[0]!);
    expect(stringField(opset, 1)).toEqual(['']);
    expect(intField(opset, 2)).toEqual([OPSET]);
    const prop = decodeMessage(bytesField(model, 14)[0]!);
    expect([stringField(prop, 1), stringField(prop, 2)]).toEqual([['licence'], ['MIT']]);

    const g = decodeMessage(bytesField(model, 7)[0]!);
    expect(stringField(g, 2)).toEqual(['g']);
    const node = decodeMessage(bytesField(g, 1)[0]!);
    expect(stringField(node, 1)).toEqual(['input', 'W']);
    expect(stringField(node, 2)).toEqual(['output']);
    expect(stringField(node, 4)).toEqual(['Conv']);
    const attrs = bytesField(node, 5).map(decodeMessage);
    expect(attrs.map((a) => stringField(a, 1)[0])).toEqual(['pads', 'group', 'mode', 'alpha']);
    expect(intField(attrs[0]!, 8)).toEqual([0, 1, 0, -1]);
    expect(intField(attrs[0]!, 20)).toEqual([7]); // INTS
    expect(intField(attrs[1]!, 3)).toEqual([1]);
    expect(stringField(attrs[2]!, 4)).toEqual(['DCR']);
    expect(fieldsOf(attrs[3]!, 2)).toEqual([0.5]);

    const init = decodeMessage(bytesField(g, 5)[0]!);
    expect(intField(init, 1)).toEqual([1, 1, 2, 2]);
    expect(intField(init, 2)).toEqual([DataType.FLOAT]);
    expect(stringField(init, 8)).toEqual(['W']);
    const raw = bytesField(init, 9)[0]!;
    expect(Array.from(new Float32Array(raw.slice().buffer))).toEqual(Array.from(weights));

    const shapeOf = (valueInfo: Uint8Array) => {
      const type = decodeMessage(bytesField(decodeMessage(valueInfo), 2)[0]!);
      const tensor = decodeMessage(bytesField(type, 1)[0]!);
      expect(intField(tensor, 1)).toEqual([DataType.FLOAT]);
      const dims = bytesField(decodeMessage(bytesField(tensor, 2)[0]!), 1).map(decodeMessage);
      return dims.map((d) => intField(d, 1)[0] ?? stringField(d, 2)[0]);
    };
    expect(shapeOf(bytesField(g, 11)[0]!)).toEqual([1, 3, 'h', 'w']);
    expect(shapeOf(bytesField(g, 12)[0]!)).toEqual([1, 3, 'h*4', 'w*4']);
  });
});

describe('DepthToSpace', () => {
  // tf.depthToSpace NHWC: out[h*b+i, w*b+j, c] = in[h, w, (i*b+j)*C + c], which is ONNX DCR.
  // CRD (in[h, w, c*b*b + i*b + j]) must disagree, or the test could not tell the two apart.
  for (const block of [2, 3]) {
    it(`DCR matches tf.depthToSpace NHWC for block ${block}`, async () => {
      const [h, w, c] = [2, 3, 3 * block * block];
      const x = randomFloats(h * w * c, 7 + block, -1, 1);
      const expected = tf.tidy(() =>
        tf.transpose(tf.depthToSpace(tf.tensor4d(x, [1, h, w, c]), block, 'NHWC'), [0, 3, 1, 2]),
      );
      const want = expected.dataSync() as Float32Array;
      expected.dispose();
      const run = async (mode: string) => {
        const model = encodeModel(
          {
            name: 'd2s',
            nodes: [
              {
                opType: 'DepthToSpace',
                name: 'd2s',
                inputs: ['input'],
                outputs: ['output'],
                attributes: {
                  blocksize: { kind: 'int', value: block },
                  mode: { kind: 'string', value: mode },
                },
              },
            ],
            initializers: [],
            inputs: [{ name: 'input', elemType: DataType.FLOAT, shape: [1, c, h, w] }],
            outputs: [
              { name: 'output', elemType: DataType.FLOAT, shape: [1, 3, h * block, w * block] },
            ],
          },
          META,
        );
        return runOnnx(model, nhwcToNchw(x, h, w, c), [1, c, h, w]);
      };
      const dcr = await run('DCR');
      expect(dcr.dims).toEqual([1, 3, h * block, w * block]);
      expect(maxAbsDiff(dcr.data, want)).toBe(0);
      const crd = await run('CRD');
      expect(maxAbsDiff(crd.data, want)).toBeGreaterThan(0.1);
    });
  }
});

function layer(
  name: string,
  className: string,
  inputs: string[],
  config: Record<string, unknown>,
): KerasLayer {
  return { name, className, inputs, config: { name, ...config } };
}

function conv(name: string, input: string, k: [number, number], filters: number, extra = {}) {
  return layer(name, 'Conv2D', [input], {
    filters,
    kernel_size: k,
    strides: [1, 1],
    padding: 'same',
    data_format: 'channels_last',
    dilation_rate: [1, 1],
    groups: 1,
    activation: 'linear',
    use_bias: true,
    ...extra,
  });
}

function syntheticModel(layers: KerasLayer[], shapes: Record<string, number[]>): LayersModel {
  const weights = new Map<string, { shape: number[]; data: Float32Array }>();
  let seed = 100;
  for (const [name, shape] of Object.entries(shapes)) {
    const n = shape.reduce((a, b) => a * b, 1);
    weights.set(name, { shape, data: randomFloats(n, seed++, -0.5, 0.5) });
  }
  return {
    layers,
    inputLayer: 'LR',
    outputLayer: layers[layers.length - 1]!.name,
    weights,
    modelTopology: null,
    weightSpecs: [],
    weightData: new ArrayBuffer(0),
    files: [],
  };
}

describe('convertLayersModel on synthetic graphs', () => {
  const input = layer('LR', 'InputLayer', [], {
    batch_input_shape: [null, null, null, 3],
    dtype: 'float32',
  });

  it('matches tf.conv2d for even and odd kernels with TF same padding, relu and concat', async () => {
    // Even kernels put the extra padding row/column after, a wrong split shifts the output.
    const model = syntheticModel(
      [
        input,
        conv('a', 'LR', [4, 2], 5, { activation: 'relu' }),
        conv('b', 'LR', [1, 1], 2, { padding: 'valid' }),
        layer('cat', 'Concatenate', ['a', 'b'], { axis: -1 }),
        layer('relu', 'Activation', ['cat'], { activation: 'relu' }),
        conv('SR', 'relu', [3, 3], 3),
      ],
      {
        'a/kernel': [4, 2, 3, 5],
        'a/bias': [5],
        'b/kernel': [1, 1, 3, 2],
        'b/bias': [2],
        'SR/kernel': [3, 3, 7, 3],
        'SR/bias': [3],
      },
    );
    const converted = convertLayersModel(model, 'synthetic');
    expect(converted.params).toBe(4 * 2 * 3 * 5 + 5 + 3 * 2 + 2 + 9 * 7 * 3 + 3);
    expect(converted.flopsPerInputPixel).toBe(2 * (4 * 2 * 3 * 5 + 3 * 2 + 9 * 7 * 3));
    const [h, w] = [7, 6];
    const x = randomFloats(h * w * 3, 3, 0, 1);
    const want = tf.tidy(() => {
      const t = (name: string) => {
        const wt = model.weights.get(name)!;
        return tf.tensor(wt.data, [...wt.shape]);
      };
      const inp = tf.tensor4d(x, [1, h, w, 3]);
      const a = tf.relu(
        tf.add(tf.conv2d(inp, t('a/kernel') as tf.Tensor4D, 1, 'same'), t('a/bias')),
      );
      const b = tf.add(tf.conv2d(inp, t('b/kernel') as tf.Tensor4D, 1, 'valid'), t('b/bias'));
      const cat = tf.relu(tf.concat([a, b], 3)) as tf.Tensor4D;
      const sr = tf.add(tf.conv2d(cat, t('SR/kernel') as tf.Tensor4D, 1, 'same'), t('SR/bias'));
      return tf.transpose(sr, [0, 3, 1, 2]);
    });
    const got = await runOnnx(encodeModel(converted.graph, META), nhwcToNchw(x, h, w, 3), [
      1,
      3,
      h,
      w,
    ]);
    expect(got.dims).toEqual([1, 3, h, w]);
    expect(maxAbsDiff(got.data, want.dataSync())).toBeLessThan(1e-5);
    want.dispose();
  });

  it('fails loudly on a layer class it does not know', () => {
    const model = syntheticModel([input, layer('SR', 'Dense', ['LR'], { units: 3 })], {});
    expect(() => convertLayersModel(model, 'x')).toThrow(
      'layer SR (Dense): this layer class is not supported by the converter',
    );
  });

  it('fails loudly on strides and activations it does not convert', () => {
    const strided = syntheticModel([input, conv('SR', 'LR', [3, 3], 3, { strides: [2, 2] })], {
      'SR/kernel': [3, 3, 3, 3],
      'SR/bias': [3],
    });
    expect(() => convertLayersModel(strided, 'x')).toThrow('only stride 1 is supported');
    const tanh = syntheticModel([input, conv('SR', 'LR', [3, 3], 3, { activation: 'tanh' })], {
      'SR/kernel': [3, 3, 3, 3],
      'SR/bias': [3],
    });
    expect(() => convertLayersModel(tanh, 'x')).toThrow('activation "tanh" is not supported');
  });
});
