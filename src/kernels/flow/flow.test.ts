import { describe, expect, it } from 'vitest';
import { testDevice, withValidation } from '../../../test/gpu-device.ts';
import { readFloat32 } from '../../gpu/readback.ts';
import { mulberry32 } from '../../shared/random.ts';
import { prepareFlow, type FlowOptions } from './flow.ts';
import { flowRef } from './flow.ref.ts';

/** A smooth random texture: a sum of sinusoids with wavelengths of 5 to 40 px in all directions. */
function texture(seed: number): (x: number, y: number) => number {
  const rand = mulberry32(seed);
  const waves = Array.from({ length: 24 }, () => {
    const angle = rand() * Math.PI * 2;
    const k = (Math.PI * 2) / (5 + 35 * rand());
    return {
      kx: k * Math.cos(angle),
      ky: k * Math.sin(angle),
      phase: rand() * 6.3,
      amp: 0.5 + rand(),
    };
  });
  return (x, y) => {
    let v = 0;
    for (const w of waves) v += w.amp * Math.sin(w.kx * x + w.ky * y + w.phase);
    return 0.5 + v / 40;
  };
}

/** current(x) = f(x); previous(x) = f(motion^-1(x)) so that previous(x + flow(x)) = current(x). */
function pair(
  w: number,
  h: number,
  channels: 1 | 3,
  seed: number,
  flowAt: (x: number, y: number) => [number, number],
): { current: Float32Array<ArrayBuffer>; previous: Float32Array<ArrayBuffer> } {
  const f = texture(seed);
  const g = texture(seed + 1);
  const plane = w * h;
  const current = new Float32Array(channels * plane);
  const previous = new Float32Array(channels * plane);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      // invert x' = x + flow(x) by fixed-point iteration (exact for a translation)
      let [sx, sy] = [x, y];
      for (let k = 0; k < 20; k++) {
        const [dx, dy] = flowAt(sx, sy);
        [sx, sy] = [x - dx, y - dy];
      }
      for (let c = 0; c < channels; c++) {
        const tint = c === 1 ? g : f;
        current[c * plane + y * w + x] = tint(x + 0.3 * c, y);
        previous[c * plane + y * w + x] = tint(sx + 0.3 * c, sy);
      }
    }
  }
  return { current, previous };
}

function makeBuffer(device: GPUDevice, data: Float32Array<ArrayBuffer>): GPUBuffer {
  const b = device.createBuffer({
    size: data.byteLength,
    usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC,
  });
  device.queue.writeBuffer(b, 0, data);
  return b;
}

async function gpuFlow(
  device: GPUDevice,
  current: Float32Array<ArrayBuffer>,
  previous: Float32Array<ArrayBuffer>,
  options: FlowOptions,
): Promise<Float32Array> {
  const cur = makeBuffer(device, current);
  const prev = makeBuffer(device, previous);
  const out = makeBuffer(device, new Float32Array(2 * options.width * options.height));
  const result = await withValidation(device, async () => {
    const flow = prepareFlow(device, options);
    const encoder = device.createCommandEncoder();
    await flow.encode(encoder, cur, prev, out);
    device.queue.submit([encoder.finish()]);
    const r = await readFloat32(device, out, 2 * options.width * options.height);
    flow.destroy();
    return r;
  });
  for (const b of [cur, prev, out]) b.destroy();
  return result;
}

/** Mean and max endpoint error against a known flow, `margin` pixels away from the borders. */
function endpointError(
  flow: Float32Array,
  w: number,
  h: number,
  margin: number,
  truth: (x: number, y: number) => [number, number],
): { mean: number; max: number } {
  let sum = 0;
  let max = 0;
  let n = 0;
  for (let y = margin; y < h - margin; y++) {
    for (let x = margin; x < w - margin; x++) {
      const [tx, ty] = truth(x, y);
      const e = Math.hypot(flow[y * w + x]! - tx, flow[w * h + y * w + x]! - ty);
      sum += e;
      max = Math.max(max, e);
      n++;
    }
  }
  return { mean: sum / n, max };
}

function diffStats(a: Float32Array, b: Float32Array): { mean: number; p99: number; max: number } {
  expect(a.length).toBe(b.length);
  const d = Array.from(a, (v, i) => Math.abs(v - b[i]!)).sort((x, y) => x - y);
  return {
    mean: d.reduce((s, v) => s + v, 0) / d.length,
    p99: d[Math.floor(d.length * 0.99)]!,
    max: d[d.length - 1]!,
  };
}

const rotation =
  (w: number, h: number, radians: number, shift: [number, number]) =>
  (x: number, y: number): [number, number] => {
    const [cx, cy] = [w / 2, h / 2];
    const [c, s] = [Math.cos(radians), Math.sin(radians)];
    const rx = cx + c * (x - cx) - s * (y - cy);
    const ry = cy + s * (x - cx) + c * (y - cy);
    return [rx - x + shift[0], ry - y + shift[1]];
  };

describe('flow kernel (pyramidal Lucas-Kanade)', () => {
  it.each<[string, 1 | 3, number, number]>([
    ['luma 67 x 41', 1, 67, 41],
    ['RGB 53 x 37', 3, 53, 37],
  ])('GPU matches the CPU reference: %s', async (_name, channels, w, h) => {
    const device = await testDevice();
    const truth = rotation(w, h, 0.06, [1.2, -0.7]);
    const { current, previous } = pair(w, h, channels, 4, truth);
    const options: FlowOptions = { width: w, height: h, channels };
    const gpu = await gpuFlow(device, current, previous, options);
    const cpu = flowRef(current, previous, options);
    const d = diffStats(gpu, cpu);
    console.log(`flow GPU vs CPU ${w}x${h}x${channels}:`, d);
    expect(d.mean).toBeLessThan(1e-4);
    expect(d.p99).toBeLessThan(1e-3);
    expect(d.max).toBeLessThan(2e-2);
    // and the reference itself recovers the motion (the comparison is not of two wrong answers)
    expect(endpointError(cpu, w, h, 6, truth).mean).toBeLessThan(0.2);
  });

  it('recovers a sub-pixel translation (1.5, -2.25) at latent size 160 x 90', async () => {
    const device = await testDevice();
    const [w, h] = [160, 90];
    const truth = (): [number, number] => [1.5, -2.25];
    const { current, previous } = pair(w, h, 1, 11, truth);
    const flow = await gpuFlow(device, current, previous, { width: w, height: h, channels: 1 });
    const epe = endpointError(flow, w, h, 8, truth);
    console.log('flow EPE translation 160x90:', epe);
    expect(epe.mean).toBeLessThan(0.03);
    expect(epe.max).toBeLessThan(0.15);
  });

  it('recovers a larger rotation + translation through the pyramid at 320 x 180', async () => {
    const device = await testDevice();
    const [w, h] = [320, 180];
    const truth = rotation(w, h, 0.03, [6.4, -4.8]);
    const { current, previous } = pair(w, h, 1, 21, truth);
    const flow = await gpuFlow(device, current, previous, { width: w, height: h, channels: 1 });
    const epe = endpointError(flow, w, h, 12, truth);
    console.log('flow EPE rotation 320x180:', epe);
    expect(epe.mean).toBeLessThan(0.06);
    expect(epe.max).toBeLessThan(0.4);
    // zero flow would be off by about 8 px: the pyramid is doing the work
    expect(endpointError(new Float32Array(2 * w * h), w, h, 12, truth).mean).toBeGreaterThan(7);
  });

  it('one prepared object serves frames in turn: swapping the frames reverses the flow', async () => {
    const device = await testDevice();
    const [w, h] = [96, 64];
    const { current, previous } = pair(w, h, 1, 31, () => [2.5, 1.25]);
    const a = makeBuffer(device, current);
    const b = makeBuffer(device, previous);
    const outs = [0, 1].map(() => makeBuffer(device, new Float32Array(2 * w * h)));
    const flow = prepareFlow(device, { width: w, height: h, channels: 1 });
    const encoder = device.createCommandEncoder();
    await flow.encode(encoder, a, b, outs[0]!);
    await flow.encode(encoder, b, a, outs[1]!);
    device.queue.submit([encoder.finish()]);
    const forward = await readFloat32(device, outs[0]!, 2 * w * h);
    const backward = await readFloat32(device, outs[1]!, 2 * w * h);
    expect(endpointError(forward, w, h, 8, () => [2.5, 1.25]).mean).toBeLessThan(0.08);
    expect(endpointError(backward, w, h, 8, () => [-2.5, -1.25]).mean).toBeLessThan(0.08);
    flow.destroy();
    for (const buf of [a, b, ...outs]) buf.destroy();
  });
});
