/**
 * A small builder of ONNX graphs from the ops SD's UNet and VAE export to (opset 17): Conv,
 * GroupNorm as Reshape -> InstanceNormalization -> Reshape -> scale/shift (opset 17 has no
 * GroupNormalization), SiLU as x * Sigmoid(x), MatMul attention with Softmax, Resize, Concat.
 * Weights are seeded uniform with a chosen gain so activations keep a sensible scale.
 * `syncGroupNorms()` turns every later GroupNorm into the tiled-VAE sync form (GroupNormSync in
 * src/engine/dloral-pack.ts).
 */
import {
  DataType,
  encodeModel,
  floatInitializer,
  int64Initializer,
  type AttrValue,
  type OnnxInitializer,
  type OnnxNode,
  type OnnxValueInfo,
} from '../esrgan/onnx-writer.ts';
import type { DloralGraph, DloralTensor, GroupNormSync } from '../../src/engine/dloral-pack.ts';
import { mulberry32 } from '../../src/shared/random.ts';

export interface Activation {
  /** Channels of this tensor and its spatial size relative to the graph input (1, 1/2, 8...). */
  readonly channels: number;
  readonly scale: number;
}

/** The tiny nets' GroupNorm epsilon (torch's default; SD's VAE uses 1e-6). */
const GN_EPSILON = 1e-5;

export class GraphBuilder {
  readonly nodes: OnnxNode[] = [];
  readonly initializers: OnnxInitializer[] = [];
  /** Every 4-D activation made, for the memory estimate. */
  readonly activations: Activation[] = [];
  /** Extra per-pixel-independent tensors (attention scores etc.) in floats per input pixel. */
  readonly flatActivations: number[] = [];
  private count = 0;
  private readonly rand: () => number;
  private readonly ints = new Map<string, string>();
  private sync: { names: GroupNormSync; parts: string[]; count: number } | null = null;

  constructor(
    readonly prefix: string,
    seed: number,
  ) {
    this.rand = mulberry32(seed);
  }

  private id(kind: string): string {
    this.count += 1;
    return `${kind}_${this.count}`;
  }

  op(opType: string, inputs: readonly string[], attributes?: Record<string, AttrValue>): string {
    const out = this.id(opType.toLowerCase());
    this.nodes.push({
      opType,
      name: `${out}_node`,
      inputs,
      outputs: [out],
      ...(attributes ? { attributes } : {}),
    });
    return out;
  }

  /** Names the output of the last node (graph outputs need fixed names). */
  rename(from: string, to: string): string {
    const node = this.nodes.find((n) => n.outputs.includes(from));
    if (!node) throw new Error(`no node makes ${from}`);
    const index = this.nodes.indexOf(node);
    this.nodes[index] = { ...node, outputs: node.outputs.map((o) => (o === from ? to : o)) };
    for (let i = index + 1; i < this.nodes.length; i++) {
      const n = this.nodes[i]!;
      this.nodes[i] = { ...n, inputs: n.inputs.map((x) => (x === from ? to : x)) };
    }
    return to;
  }

  uniform(name: string, dims: readonly number[], bound: number, center = 0): string {
    const n = dims.reduce((a, b) => a * b, 1);
    const data = new Float32Array(n);
    for (let i = 0; i < n; i++) data[i] = center + (this.rand() * 2 - 1) * bound;
    const full = `${this.prefix}.${name}`;
    this.initializers.push(floatInitializer(full, dims, data));
    return full;
  }

  constFloat(name: string, dims: readonly number[], values: readonly number[]): string {
    const full = `${this.prefix}.${name}`;
    this.initializers.push(floatInitializer(full, dims, Float32Array.from(values)));
    return full;
  }

  constInts(values: readonly number[]): string {
    const key = values.join(',');
    const known = this.ints.get(key);
    if (known) return known;
    const name = `${this.prefix}.ints_${this.ints.size}`;
    this.initializers.push(int64Initializer(name, [values.length], values));
    this.ints.set(key, name);
    return name;
  }

  track(channels: number, scale: number): void {
    this.activations.push({ channels, scale });
  }

  /** Conv with weights uniform in +-gain * sqrt(3 / fan_in): output variance ~ gain^2. */
  conv(
    x: string,
    cin: number,
    cout: number,
    k: number,
    options: { stride?: number; pads?: readonly number[]; gain?: number; scale: number },
  ): string {
    const name = this.id('conv');
    const gain = options.gain ?? 1;
    const w = this.uniform(
      `${name}.weight`,
      [cout, cin, k, k],
      gain * Math.sqrt(3 / (cin * k * k)),
    );
    const b = this.uniform(`${name}.bias`, [cout], 0.05);
    const p = (k - 1) / 2;
    const out = this.op('Conv', [x, w, b], {
      kernel_shape: { kind: 'ints', value: [k, k] },
      strides: { kind: 'ints', value: [options.stride ?? 1, options.stride ?? 1] },
      pads: { kind: 'ints', value: options.pads ?? [p, p, p, p] },
    });
    this.track(cout, options.scale);
    return out;
  }

  /**
   * From here on every GroupNorm takes its statistics through the sync inputs: it computes its own
   * per-group mean and variance and normalises with own + mix * (given - own), `given` sliced from
   * `names.statsIn` in graph order ([means of its groups, variances of its groups] per layer).
   * `finishSync` then concatenates all own statistics into `names.statsOut`.
   */
  syncGroupNorms(names: Omit<GroupNormSync, 'count'>): void {
    this.sync = { names: { ...names, count: 0 }, parts: [], count: 0 };
  }

  /** Emits the statistics output; returns the contract with its float count. */
  finishSync(): GroupNormSync {
    const sync = this.sync;
    if (!sync || sync.parts.length === 0) throw new Error('no synced GroupNorm in this graph');
    this.rename(
      this.op('Concat', sync.parts, { axis: { kind: 'int', value: 0 } }),
      sync.names.statsOut,
    );
    return { ...sync.names, count: sync.count };
  }

  groupNorm(x: string, channels: number, groups: number, scale: number): string {
    const name = this.id('gn');
    const shape = this.op('Shape', [x]);
    const grouped = this.op('Reshape', [x, this.constInts([0, groups, -1])]);
    const ones = this.constFloat(`${name}.ones`, [groups], new Array<number>(groups).fill(1));
    const zeros = this.constFloat(`${name}.zeros`, [groups], new Array<number>(groups).fill(0));
    let normed = this.op('InstanceNormalization', [grouped, ones, zeros], {
      epsilon: { kind: 'float', value: GN_EPSILON },
    });
    if (this.sync) normed = this.syncedNorm(grouped, normed, groups, this.sync);
    const back = this.op('Reshape', [normed, shape]);
    const gamma = this.uniform(`${name}.weight`, [channels, 1, 1], 0.1, 1);
    const beta = this.uniform(`${name}.bias`, [channels, 1, 1], 0.1);
    this.track(channels, scale);
    return this.op('Add', [this.op('Mul', [back, gamma]), beta]);
  }

  /**
   * (x - m) / sqrt(v + eps) with m = mo + mix (mg - mo), v = vo + mix (vg - vo), written as
   * IN(x) + (IN(x) (so - sv) - (m - mo)) / sv with so = sqrt(vo + eps), sv = sqrt(v + eps): the
   * same value (IN(x) = (x - mo) / so), but at mix = 0 the correction is exactly 0 / sv = 0, so the
   * output is the plain InstanceNormalization's bit for bit (a ratio so / sv would be 1 exactly
   * only where division is correctly rounded, which WGSL does not promise).
   */
  private syncedNorm(
    grouped: string,
    normed: string,
    groups: number,
    sync: { names: GroupNormSync; parts: string[]; count: number },
  ): string {
    const axes: Record<string, AttrValue> = { axes: { kind: 'ints', value: [2] } };
    const mo = this.op('ReduceMean', [grouped], axes);
    const centred = this.op('Sub', [grouped, mo]);
    const vo = this.op('ReduceMean', [this.op('Mul', [centred, centred])], axes);
    const given = (from: number): string =>
      this.op('Reshape', [
        this.op('Slice', [
          sync.names.statsIn,
          this.constInts([from]),
          this.constInts([from + groups]),
          this.constInts([0]),
        ]),
        this.constInts([1, groups, 1]),
      ]);
    const mg = given(sync.count);
    const vg = given(sync.count + groups);
    const mix = sync.names.mix;
    const m = this.op('Add', [mo, this.op('Mul', [mix, this.op('Sub', [mg, mo])])]);
    const v = this.op('Add', [vo, this.op('Mul', [mix, this.op('Sub', [vg, vo])])]);
    const eps = this.constFloat(`${this.id('gn_sync')}.epsilon`, [], [GN_EPSILON]);
    const so = this.op('Sqrt', [this.op('Add', [vo, eps])]);
    const sv = this.op('Sqrt', [this.op('Add', [v, eps])]);
    const correction = this.op('Div', [
      this.op('Sub', [this.op('Mul', [normed, this.op('Sub', [so, sv])]), this.op('Sub', [m, mo])]),
      sv,
    ]);
    const flat = this.constInts([groups]);
    sync.parts.push(this.op('Reshape', [mo, flat]), this.op('Reshape', [vo, flat]));
    sync.count += 2 * groups;
    return this.op('Add', [normed, correction]);
  }

  silu(x: string): string {
    return this.op('Mul', [x, this.op('Sigmoid', [x])]);
  }

  /** x [.., in] @ W [in, out] + b. */
  linear(x: string, cin: number, cout: number, gain = 1): string {
    const name = this.id('linear');
    const w = this.uniform(`${name}.weight`, [cin, cout], gain * Math.sqrt(3 / cin));
    const b = this.uniform(`${name}.bias`, [cout], 0.05);
    return this.op('Add', [this.op('MatMul', [x, w]), b]);
  }

  /** SD's ResnetBlock2D: GN, SiLU, conv, (+ time embedding), GN, SiLU, conv, + shortcut. */
  resBlock(
    x: string,
    cin: number,
    cout: number,
    scale: number,
    temb?: { readonly value: string; readonly channels: number },
  ): string {
    let h = this.conv(this.silu(this.groupNorm(x, cin, Math.min(4, cin), scale)), cin, cout, 3, {
      scale,
    });
    if (temb) {
      const t = this.linear(this.silu(temb.value), temb.channels, cout, 0.5);
      h = this.op('Add', [h, this.op('Reshape', [t, this.constInts([1, cout, 1, 1])])]);
    }
    h = this.conv(this.silu(this.groupNorm(h, cout, Math.min(4, cout), scale)), cout, cout, 3, {
      scale,
      gain: 0.5,
    });
    const skip = cin === cout ? x : this.conv(x, cin, cout, 1, { scale });
    return this.op('Add', [h, skip]);
  }

  /**
   * Cross-attention of every position to a [1, tokens, width] context (one head): GN, Q from the
   * features, K and V from the context, softmax(QK^T / sqrt(d)) V, out projection, + residual.
   */
  crossAttention(
    x: string,
    channels: number,
    context: { readonly value: string; readonly tokens: number; readonly width: number },
    dim: number,
    scale: number,
  ): string {
    const shape = this.op('Shape', [x]);
    const h = this.groupNorm(x, channels, Math.min(4, channels), scale);
    const seq = this.op('Transpose', [this.op('Reshape', [h, this.constInts([0, channels, -1])])], {
      perm: { kind: 'ints', value: [0, 2, 1] },
    });
    const name = this.id('attn');
    const wq = this.uniform(`${name}.to_q`, [channels, dim], Math.sqrt(3 / channels));
    const wk = this.uniform(`${name}.to_k`, [context.width, dim], Math.sqrt(3 / context.width));
    const wv = this.uniform(`${name}.to_v`, [context.width, dim], Math.sqrt(3 / context.width));
    const q = this.op('MatMul', [seq, wq]);
    const k = this.op('MatMul', [context.value, wk]);
    const v = this.op('MatMul', [context.value, wv]);
    const kt = this.op('Transpose', [k], { perm: { kind: 'ints', value: [0, 2, 1] } });
    const scores = this.op('Mul', [
      this.op('MatMul', [q, kt]),
      this.constFloat(`${name}.scale`, [], [1 / Math.sqrt(dim)]),
    ]);
    this.flatActivations.push(context.tokens * scale * scale);
    const attn = this.op('MatMul', [
      this.op('Softmax', [scores], { axis: { kind: 'int', value: -1 } }),
      v,
    ]);
    const out = this.linear(attn, dim, channels, 0.5);
    const back = this.op('Reshape', [
      this.op('Transpose', [out], { perm: { kind: 'ints', value: [0, 2, 1] } }),
      shape,
    ]);
    return this.op('Add', [x, back]);
  }

  /** Nearest resize of x to the spatial size of `like` (odd sizes round as in diffusers). */
  upsampleLike(x: string, channels: number, like: string): string {
    const hw = this.op('Slice', [
      this.op('Shape', [like]),
      this.constInts([2]),
      this.constInts([4]),
      this.constInts([0]),
    ]);
    const sizes = this.op('Concat', [this.constInts([1, channels]), hw], {
      axis: { kind: 'int', value: 0 },
    });
    return this.op('Resize', [x, '', '', sizes], {
      mode: { kind: 'string', value: 'nearest' },
      coordinate_transformation_mode: { kind: 'string', value: 'asymmetric' },
      nearest_mode: { kind: 'string', value: 'floor' },
    });
  }

  /** Nearest x2 (SD's Upsample2D before its conv). */
  upsample2x(x: string): string {
    const scales = this.constFloat(`${this.id('up')}.scales`, [4], [1, 1, 2, 2]);
    return this.op('Resize', [x, '', scales], {
      mode: { kind: 'string', value: 'nearest' },
      coordinate_transformation_mode: { kind: 'string', value: 'asymmetric' },
      nearest_mode: { kind: 'string', value: 'floor' },
    });
  }

  weightStats(): { bytes: number; largest: number } {
    let bytes = 0;
    let largest = 0;
    for (const t of this.initializers) {
      bytes += t.raw.byteLength;
      largest = Math.max(largest, t.raw.byteLength);
    }
    return { bytes, largest };
  }

  /**
   * Memory per graph-input pixel: the largest activation, and a peak estimate (the sum of the
   * two largest activations plus the attention scores, as a conv reads one and writes another).
   */
  activationCost(): { largest: number; peak: number } {
    const per = this.activations.map((a) => a.channels * a.scale * a.scale * 4);
    per.push(...this.flatActivations.map((f) => f * 4));
    per.sort((a, b) => b - a);
    const largest = per[0] ?? 0;
    return { largest, peak: largest + (per[1] ?? 0) + (per[2] ?? 0) };
  }
}

const META = { producerName: 'upframe-tiny-dloral', producerVersion: '1' };

export interface BuiltGraph {
  readonly bytes: Uint8Array;
  readonly info: DloralGraph;
}

function valueInfo(t: DloralTensor): OnnxValueInfo {
  return { name: t.name, elemType: DataType.FLOAT, shape: t.shape };
}

/** The ONNX bytes of a built graph and its manifest entry (memory costs from the builder). */
export function finishGraph(
  b: GraphBuilder,
  path: string,
  inputs: DloralTensor[],
  outputs: DloralTensor[],
): BuiltGraph {
  const bytes = encodeModel(
    {
      name: b.prefix,
      nodes: b.nodes,
      initializers: b.initializers,
      inputs: inputs.map(valueInfo),
      outputs: outputs.map(valueInfo),
    },
    META,
  );
  const w = b.weightStats();
  const a = b.activationCost();
  return {
    bytes,
    info: {
      path,
      inputs,
      outputs,
      weightBytes: w.bytes,
      largestWeightBytes: w.largest,
      largestActivation: { linear: a.largest, quadratic: 0 },
      peakActivation: { linear: a.peak, quadratic: 0 },
    },
  };
}
