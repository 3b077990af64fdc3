/**
 * The input of the tiled VAE's GroupNorm statistics pass (dloral-area.wgsl) and its CPU
 * reference: the frame area-averaged into one tile (which keeps each channel's mean), then each
 * channel's std restored to the frame's, as the released Tiled VAE's fast mode does (shrinking
 * averages texture away; measured on the tiny pack, the decoder's tiles drift 2x less from the
 * whole frame with the restore than without). Lives beside the DLoRAL pipeline, its only user.
 */
import { getComputePipeline } from '../gpu/pipeline-cache.ts';
import { meanStdRef } from '../kernels/adain/adain.ref.ts';
import shader from './dloral-area.wgsl?raw';

const WG = 16;
const PARAMS_BYTES = 32;

export interface AreaParams {
  readonly channels: number;
  readonly inWidth: number;
  readonly inHeight: number;
  /** At most the input size on each axis. */
  readonly outWidth: number;
  readonly outHeight: number;
}

function steps(p: AreaParams): [number, number] {
  if (p.outWidth > p.inWidth || p.outHeight > p.inHeight || p.outWidth < 1 || p.outHeight < 1)
    throw new RangeError(
      `area resize shrinks only: ${p.inWidth}x${p.inHeight} -> ${p.outWidth}x${p.outHeight}`,
    );
  return [Math.fround(p.inWidth / p.outWidth), Math.fround(p.inHeight / p.outHeight)];
}

const f = Math.fround;

/** Covers of the input pixels under output pixel `o` (f32, as the shader computes them). */
function covers(o: number, step: number, size: number): { first: number; weights: number[] } {
  const lo = f(o * step);
  const hi = Math.min(f((o + 1) * step), size);
  const first = Math.floor(lo);
  const end = Math.min(Math.ceil(hi), size);
  const weights: number[] = [];
  for (let i = first; i < end; i++)
    weights.push(Math.max(f(Math.min(i + 1, hi) - Math.max(i, lo)), 0));
  return { first, weights };
}

/** CPU reference of dloral-area.wgsl. */
export function areaResizeRef(input: Float32Array, p: AreaParams): Float32Array<ArrayBuffer> {
  const [sx, sy] = steps(p);
  const { inWidth: w, inHeight: h, outWidth: ow, outHeight: oh } = p;
  const xs = Array.from({ length: ow }, (_, x) => covers(x, sx, w));
  const out = new Float32Array(p.channels * ow * oh);
  for (let y = 0; y < oh; y++) {
    const cy = covers(y, sy, h);
    const wy = cy.weights.reduce((a, b) => f(a + b), 0);
    for (let x = 0; x < ow; x++) {
      const cx = xs[x]!;
      const norm = f(cx.weights.reduce((a, b) => f(a + b), 0) * wy);
      for (let c = 0; c < p.channels; c++) {
        let total = 0;
        for (const [dj, vy] of cy.weights.entries()) {
          const base = (c * h + cy.first + dj) * w + cx.first;
          let row = 0;
          for (const [di, vx] of cx.weights.entries()) row = f(row + f(vx * input[base + di]!));
          total = f(total + f(vy * row));
        }
        out[(c * oh + y) * ow + x] = f(total / norm);
      }
    }
  }
  return out;
}

/** Per channel std (unbiased, as torch.std_mean) and mean, in f64. */
function channelMoments(t: Float32Array, channels: number, plane: number) {
  return meanStdRef(t, channels, plane, 0);
}

/** CPU reference of the statistics-pass input: area shrink, then the frame's channel std back. */
export function statsInputRef(input: Float32Array, p: AreaParams): Float32Array<ArrayBuffer> {
  const out = areaResizeRef(input, p);
  const plane = p.outWidth * p.outHeight;
  const frame = channelMoments(input, p.channels, p.inWidth * p.inHeight);
  const own = channelMoments(out, p.channels, plane);
  for (let c = 0; c < p.channels; c++) {
    const s = own.std[c]!;
    const gain = s < 1e-6 ? 0 : frame.std[c]! / s;
    for (let i = c * plane; i < (c + 1) * plane; i++)
      out[i] = (out[i]! - own.mean[c]!) * gain + frame.mean[c]!;
  }
  return out;
}

export interface PreparedArea {
  encode(encoder: GPUCommandEncoder): void;
  destroy(): void;
}

/** `input` [C, inHeight, inWidth] -> `output` [C, outHeight, outWidth], both STORAGE buffers. */
export function prepareAreaResize(
  device: GPUDevice,
  input: GPUBuffer,
  output: GPUBuffer,
  params: AreaParams,
): PreparedArea {
  const [sx, sy] = steps(params);
  const pipeline = getComputePipeline(device, {
    label: 'dloral-area',
    code: shader,
    entryPoint: 'main',
    constants: { WG, CHANNELS: params.channels },
  });
  const uniform = device.createBuffer({
    label: 'dloral-area.params',
    size: PARAMS_BYTES,
    usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST,
  });
  const data = new ArrayBuffer(PARAMS_BYTES);
  new Uint32Array(data).set([params.inWidth, params.inHeight, params.outWidth, params.outHeight]);
  new Float32Array(data).set([sx, sy], 4);
  device.queue.writeBuffer(uniform, 0, data);
  const bindGroup = device.createBindGroup({
    layout: pipeline.getBindGroupLayout(0),
    entries: [
      { binding: 0, resource: { buffer: input } },
      { binding: 1, resource: { buffer: output } },
      { binding: 2, resource: { buffer: uniform } },
    ],
  });
  return {
    encode(encoder) {
      const pass = encoder.beginComputePass({ label: 'dloral-area' });
      pass.setPipeline(pipeline);
      pass.setBindGroup(0, bindGroup);
      pass.dispatchWorkgroups(Math.ceil(params.outWidth / WG), Math.ceil(params.outHeight / WG));
      pass.end();
    },
    destroy() {
      uniform.destroy();
    },
  };
}

const RWG = 256;
const MAX_ROW = 65535;

/**
 * `input` [C, inHeight, inWidth] -> `output` [C, outHeight, outWidth] as statsInputRef: the
 * shrink, both tensors' channel moments into a small buffer of its own, and the in-place renorm.
 */
export function prepareStatsInput(
  device: GPUDevice,
  input: GPUBuffer,
  output: GPUBuffer,
  params: AreaParams,
): PreparedArea {
  const shrink = prepareAreaResize(device, input, output, params);
  const { channels } = params;
  const moments = getComputePipeline(device, {
    label: 'dloral-area.moments',
    code: shader,
    entryPoint: 'moments',
  });
  const renorm = getComputePipeline(device, {
    label: 'dloral-area.renorm',
    code: shader,
    entryPoint: 'renorm',
  });
  const stats = device.createBuffer({
    label: 'dloral-area.stats',
    size: 2 * 2 * channels * 4,
    usage: GPUBufferUsage.STORAGE,
  });
  const outPlane = params.outWidth * params.outHeight;
  const groups = Math.ceil((channels * outPlane) / RWG);
  const row = Math.min(groups, MAX_ROW);
  const uniforms: GPUBuffer[] = [];
  const uniform = (plane: number, slot: number): GPUBuffer => {
    const u = device.createBuffer({
      label: 'dloral-area.plane',
      size: 16,
      usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST,
    });
    device.queue.writeBuffer(u, 0, Uint32Array.from([plane, channels, slot, row]));
    uniforms.push(u);
    return u;
  };
  const momentsOf = (data: GPUBuffer, plane: number, slot: number): GPUBindGroup =>
    device.createBindGroup({
      layout: moments.getBindGroupLayout(0),
      entries: [
        { binding: 3, resource: { buffer: data } },
        { binding: 4, resource: { buffer: stats } },
        { binding: 5, resource: { buffer: uniform(plane, slot) } },
      ],
    });
  const frameMoments = momentsOf(input, params.inWidth * params.inHeight, 0);
  const ownMoments = momentsOf(output, outPlane, 1);
  const renormGroup = device.createBindGroup({
    layout: renorm.getBindGroupLayout(0),
    entries: [
      { binding: 6, resource: { buffer: output } },
      { binding: 7, resource: { buffer: stats } },
      { binding: 8, resource: { buffer: uniform(outPlane, 1) } },
    ],
  });
  return {
    encode(encoder) {
      shrink.encode(encoder);
      const pass = encoder.beginComputePass({ label: 'dloral-area.renorm' });
      pass.setPipeline(moments);
      for (const group of [frameMoments, ownMoments]) {
        pass.setBindGroup(0, group);
        pass.dispatchWorkgroups(channels);
      }
      pass.setPipeline(renorm);
      pass.setBindGroup(0, renormGroup);
      pass.dispatchWorkgroups(row, Math.ceil(groups / row));
      pass.end();
    },
    destroy() {
      shrink.destroy();
      stats.destroy();
      for (const u of uniforms) u.destroy();
    },
  };
}
