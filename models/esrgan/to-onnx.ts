/**
 * Maps the Keras layers of the UpscalerJS ESRGAN models (RDN and RRDN) to an NCHW ONNX graph.
 * Keras runs them NHWC; ONNX convs are NCHW, so rather than wrapping the graph in transposes the
 * whole graph is rebuilt in NCHW: kernels HWIO -> OIHW, channel axes 3 -> 1, and PixelShuffle
 * (tf.depthToSpace NHWC) -> DepthToSpace mode DCR, which orders the channels the same way.
 */
import type { KerasLayer, LayersModel } from './layers-model.ts';
import { DataType, floatInitializer } from './onnx-writer.ts';
import type { AttrValue, OnnxGraph, OnnxInitializer, OnnxNode } from './onnx-writer.ts';

export const INPUT_NAME = 'input';
export const OUTPUT_NAME = 'output';

export interface ConvertedGraph {
  readonly graph: OnnxGraph;
  /** Overall upscale factor from input to output. */
  readonly scale: number;
  readonly params: number;
  /** 2 x multiply-adds of every conv, per input pixel (elementwise ops are not counted). */
  readonly flopsPerInputPixel: number;
  /** Theoretical receptive-field radius in input pixels (a tiler overlap hint, not a bound). */
  readonly receptiveRadius: number;
  /** Keras layer class -> how many were converted. */
  readonly layerCounts: Readonly<Record<string, number>>;
}

/** What is known about a tensor as the graph is walked. */
interface TensorInfo {
  readonly name: string;
  readonly channels: number;
  /** Spatial size relative to the input. */
  readonly scale: number;
  readonly radius: number;
}

function fail(layer: KerasLayer, what: string): never {
  throw new Error(`layer ${layer.name} (${layer.className}): ${what}`);
}

function numPair(layer: KerasLayer, key: string): [number, number] {
  const v = layer.config[key];
  if (!Array.isArray(v) || v.length !== 2 || !v.every((x) => Number.isInteger(x))) {
    fail(layer, `${key} must be a pair of integers, got ${JSON.stringify(v)}`);
  }
  return [v[0] as number, v[1] as number];
}

function ints(value: readonly number[]): AttrValue {
  return { kind: 'ints', value };
}

/** NHWC axis of a rank-4 tensor -> the same axis in NCHW. */
function nhwcAxisToNchw(layer: KerasLayer, axis: unknown): number {
  if (typeof axis !== 'number' || !Number.isInteger(axis) || axis < -4 || axis > 3) {
    fail(layer, `axis ${JSON.stringify(axis)} is not an axis of a rank-4 tensor`);
  }
  const a = (axis + 4) % 4;
  if (a === 0) fail(layer, 'concatenating along the batch axis is not supported');
  return [0, 2, 3, 1][a]!;
}

/** Keras 'same' padding for stride 1 puts the odd pixel (even kernels) after, like TF. */
function samePads(kernel: [number, number], dilation: [number, number]): number[] {
  const totalH = dilation[0] * (kernel[0] - 1);
  const totalW = dilation[1] * (kernel[1] - 1);
  const top = Math.floor(totalH / 2);
  const left = Math.floor(totalW / 2);
  return [top, left, totalH - top, totalW - left];
}

/** OIHW copy of an HWIO kernel. */
export function hwioToOihw(data: Float32Array, shape: readonly number[]): Float32Array {
  const [h, w, i, o] = shape as [number, number, number, number];
  const out = new Float32Array(data.length);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      for (let ci = 0; ci < i; ci++) {
        const src = ((y * w + x) * i + ci) * o;
        for (let co = 0; co < o; co++) out[((co * i + ci) * h + y) * w + x] = data[src + co]!;
      }
    }
  }
  return out;
}

export function convertLayersModel(model: LayersModel, graphName: string): ConvertedGraph {
  const nodes: OnnxNode[] = [];
  const initializers: OnnxInitializer[] = [];
  const tensors = new Map<string, TensorInfo>();
  const counts: Record<string, number> = {};
  let params = 0;
  let flops = 0;

  const input = (layer: KerasLayer, index: number): TensorInfo => {
    const name = layer.inputs[index];
    const info = name === undefined ? undefined : tensors.get(name);
    return info ?? fail(layer, `input ${index} (${name}) is not produced before this layer`);
  };
  const outName = (layer: KerasLayer): string =>
    layer.name === model.outputLayer ? OUTPUT_NAME : layer.name;
  const weight = (layer: KerasLayer, part: string) => {
    const w = model.weights.get(`${layer.name}/${part}`);
    if (w === undefined) fail(layer, `no weight ${layer.name}/${part}`);
    params += w.data.length;
    return w;
  };
  const expectInputs = (layer: KerasLayer, min: number, max = min): void => {
    if (layer.inputs.length < min || layer.inputs.length > max) {
      fail(
        layer,
        `expected ${min === max ? min : `${min}..${max}`} inputs, got ${layer.inputs.length}`,
      );
    }
  };
  const activation = (layer: KerasLayer, from: string, to: string): boolean => {
    const act = layer.config['activation'];
    if (act === 'linear' || act === undefined) return false;
    if (act !== 'relu') fail(layer, `activation ${JSON.stringify(act)} is not supported`);
    nodes.push({ opType: 'Relu', name: `${layer.name}/relu`, inputs: [from], outputs: [to] });
    return true;
  };

  for (const layer of model.layers) {
    counts[layer.className] = (counts[layer.className] ?? 0) + 1;
    const out = outName(layer);
    const cls = layer.className;
    if (cls === 'InputLayer') {
      const shape = layer.config['batch_input_shape'];
      if (JSON.stringify(shape) !== '[null,null,null,3]' || layer.config['dtype'] !== 'float32') {
        fail(layer, `expected a float32 [null, null, null, 3] input, got ${JSON.stringify(shape)}`);
      }
      if (layer.name !== model.inputLayer) fail(layer, 'a second input layer is not supported');
      tensors.set(layer.name, { name: INPUT_NAME, channels: 3, scale: 1, radius: 0 });
      continue;
    }
    let info: TensorInfo;
    if (cls === 'Conv2D') {
      expectInputs(layer, 1);
      const x = input(layer, 0);
      const c = layer.config;
      if (c['data_format'] !== 'channels_last') fail(layer, 'data_format must be channels_last');
      if ((c['groups'] ?? 1) !== 1) fail(layer, 'grouped convolution is not supported');
      const kernel = numPair(layer, 'kernel_size');
      const strides = numPair(layer, 'strides');
      const dilation = numPair(layer, 'dilation_rate');
      // TF 'same' padding for stride > 1 depends on the input size; these models never use it.
      if (strides[0] !== 1 || strides[1] !== 1) fail(layer, 'only stride 1 is supported');
      let pads: number[];
      if (c['padding'] === 'same') pads = samePads(kernel, dilation);
      else if (c['padding'] === 'valid') pads = [0, 0, 0, 0];
      else fail(layer, `padding ${JSON.stringify(c['padding'])} is not supported`);
      const k = weight(layer, 'kernel');
      const [kh, kw, cin, cout] = k.shape as [number, number, number, number];
      if (k.shape.length !== 4 || kh !== kernel[0] || kw !== kernel[1] || cin !== x.channels) {
        fail(layer, `kernel shape [${k.shape.join(', ')}] does not fit ${x.channels} inputs`);
      }
      if (c['filters'] !== cout) fail(layer, `filters ${String(c['filters'])} != kernel ${cout}`);
      const inputs = [x.name, `${layer.name}/W`];
      initializers.push(
        floatInitializer(`${layer.name}/W`, [cout, cin, kh, kw], hwioToOihw(k.data, k.shape)),
      );
      if (c['use_bias'] === true) {
        const b = weight(layer, 'bias');
        if (b.data.length !== cout) fail(layer, 'bias length != filters');
        initializers.push(floatInitializer(`${layer.name}/B`, [cout], b.data));
        inputs.push(`${layer.name}/B`);
      }
      const hasAct = c['activation'] !== 'linear' && c['activation'] !== undefined;
      const convOut = hasAct ? `${layer.name}/conv` : out;
      nodes.push({
        opType: 'Conv',
        name: layer.name,
        inputs,
        outputs: [convOut],
        attributes: {
          kernel_shape: ints(kernel),
          pads: ints(pads),
          strides: ints(strides),
          dilations: ints(dilation),
          group: { kind: 'int', value: 1 },
        },
      });
      activation(layer, convOut, out);
      flops += 2 * kh * kw * cin * cout * x.scale * x.scale;
      const grow = Math.max(dilation[0] * (kh - 1), dilation[1] * (kw - 1)) / 2 / x.scale;
      info = { name: out, channels: cout, scale: x.scale, radius: x.radius + grow };
    } else if (cls === 'Activation') {
      expectInputs(layer, 1);
      const x = input(layer, 0);
      if (!activation(layer, x.name, out)) {
        nodes.push({ opType: 'Identity', name: layer.name, inputs: [x.name], outputs: [out] });
      }
      info = { ...x, name: out };
    } else if (cls === 'Concatenate') {
      expectInputs(layer, 2, Infinity);
      const xs = layer.inputs.map((_, i) => input(layer, i));
      const axis = nhwcAxisToNchw(layer, layer.config['axis']);
      if (axis !== 1) fail(layer, 'only channel concatenation is supported');
      if (xs.some((x) => x.scale !== xs[0]!.scale)) fail(layer, 'inputs differ in size');
      nodes.push({
        opType: 'Concat',
        name: layer.name,
        inputs: xs.map((x) => x.name),
        outputs: [out],
        attributes: { axis: { kind: 'int', value: axis } },
      });
      info = {
        name: out,
        channels: xs.reduce((n, x) => n + x.channels, 0),
        scale: xs[0]!.scale,
        radius: Math.max(...xs.map((x) => x.radius)),
      };
    } else if (cls === 'Add') {
      expectInputs(layer, 2, Infinity);
      const xs = layer.inputs.map((_, i) => input(layer, i));
      if (xs.some((x) => x.channels !== xs[0]!.channels || x.scale !== xs[0]!.scale)) {
        fail(layer, 'inputs differ in shape');
      }
      nodes.push({
        opType: xs.length === 2 ? 'Add' : 'Sum',
        name: layer.name,
        inputs: xs.map((x) => x.name),
        outputs: [out],
      });
      info = { ...xs[0]!, name: out, radius: Math.max(...xs.map((x) => x.radius)) };
    } else if (cls === 'MultiplyBeta') {
      expectInputs(layer, 1);
      const x = input(layer, 0);
      // The package's layer multiplies by its constant BETA = 0.2; the saved config agrees.
      const beta = layer.config['beta'] ?? 0.2;
      if (typeof beta !== 'number') fail(layer, 'beta must be a number');
      const betaName = `${layer.name}/beta`;
      initializers.push(floatInitializer(betaName, [], new Float32Array([beta])));
      nodes.push({ opType: 'Mul', name: layer.name, inputs: [x.name, betaName], outputs: [out] });
      info = { ...x, name: out };
    } else if (/^PixelShuffle\d+x$/.test(cls)) {
      expectInputs(layer, 1);
      const x = input(layer, 0);
      const block = layer.config['scale'];
      if (typeof block !== 'number' || `PixelShuffle${block}x` !== cls) {
        fail(layer, `scale ${JSON.stringify(block)} does not match the class name`);
      }
      if (x.channels % (block * block) !== 0) fail(layer, `channels not divisible by ${block}^2`);
      nodes.push({
        opType: 'DepthToSpace',
        name: layer.name,
        inputs: [x.name],
        outputs: [out],
        attributes: {
          blocksize: { kind: 'int', value: block },
          mode: { kind: 'string', value: 'DCR' },
        },
      });
      info = {
        name: out,
        channels: x.channels / (block * block),
        scale: x.scale * block,
        radius: x.radius,
      };
    } else if (cls === 'UpSampling2D') {
      expectInputs(layer, 1);
      const x = input(layer, 0);
      const [sh, sw] = numPair(layer, 'size');
      if (layer.config['interpolation'] !== 'nearest') fail(layer, 'only nearest is supported');
      if (layer.config['data_format'] !== 'channels_last') fail(layer, 'must be channels_last');
      if (sh !== sw) fail(layer, 'unequal scales are not supported');
      const scalesName = `${layer.name}/scales`;
      initializers.push(floatInitializer(scalesName, [4], new Float32Array([1, 1, sh, sw])));
      // TF.js resizes with alignCorners=false, halfPixelCenters=false: src = floor(dst / s),
      // which is ONNX 'asymmetric' + 'floor'.
      nodes.push({
        opType: 'Resize',
        name: layer.name,
        inputs: [x.name, '', scalesName],
        outputs: [out],
        attributes: {
          mode: { kind: 'string', value: 'nearest' },
          coordinate_transformation_mode: { kind: 'string', value: 'asymmetric' },
          nearest_mode: { kind: 'string', value: 'floor' },
        },
      });
      info = { ...x, name: out, scale: x.scale * sh };
    } else {
      fail(layer, 'this layer class is not supported by the converter');
    }
    tensors.set(layer.name, info);
  }

  const last = tensors.get(model.outputLayer);
  if (last === undefined) throw new Error(`output layer ${model.outputLayer} was never produced`);
  if (last.channels !== 3) throw new Error(`output has ${last.channels} channels, expected 3`);
  if (last.name !== OUTPUT_NAME)
    throw new Error('the output layer must be the one that ends the graph');
  const unusedWeights = [...model.weights.keys()].filter(
    (w) =>
      !initializers.some((i) => i.name === w.replace(/\/kernel$/, '/W').replace(/\/bias$/, '/B')),
  );
  if (unusedWeights.length > 0) throw new Error(`weights never used: ${unusedWeights.join(', ')}`);

  const s = last.scale;
  return {
    graph: {
      name: graphName,
      nodes,
      initializers,
      inputs: [{ name: INPUT_NAME, elemType: DataType.FLOAT, shape: [1, 3, 'h', 'w'] }],
      outputs: [{ name: OUTPUT_NAME, elemType: DataType.FLOAT, shape: [1, 3, `h*${s}`, `w*${s}`] }],
    },
    scale: s,
    params,
    flopsPerInputPixel: flops,
    receptiveRadius: last.radius,
    layerCounts: counts,
  };
}
