import { flowLevels, resolveFlowOptions, type FlowOptions } from './flow.ts';

const MAX_STEP = 2;

function clampi(v: number, lo: number, hi: number): number {
  return v < lo ? lo : v > hi ? hi : v;
}

/** The helpers below write into `out` when given one (FlowCpu's pooled buffers), else allocate. */
export function toGray(
  frame: Float32Array,
  channels: number,
  plane: number,
  out: Float32Array = new Float32Array(plane),
): Float32Array {
  if (channels === 1) {
    out.set(frame.subarray(0, plane));
    return out;
  }
  for (let i = 0; i < plane; i++) {
    out[i] = 0.299 * frame[i]! + 0.587 * frame[i + plane]! + 0.114 * frame[i + 2 * plane]!;
  }
  return out;
}

const PYRAMID_TAPS = [0.125, 0.375, 0.375, 0.125];

export function downsample(
  fine: Float32Array,
  fw: number,
  fh: number,
  w: number,
  h: number,
  out: Float32Array = new Float32Array(w * h),
): Float32Array {
  const k = PYRAMID_TAPS;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      let acc = 0;
      for (let j = 0; j < 4; j++) {
        const row = clampi(2 * y - 1 + j, 0, fh - 1) * fw;
        let r = 0;
        for (let i = 0; i < 4; i++) r += k[i]! * fine[row + clampi(2 * x - 1 + i, 0, fw - 1)]!;
        acc += k[j]! * r;
      }
      out[y * w + x] = acc;
    }
  }
  return out;
}

/** Bilinear sample of the plane at `base` in `data` (w x h) at (x, y), edges replicated. */
export function bilinear(
  data: Float32Array,
  base: number,
  w: number,
  h: number,
  x: number,
  y: number,
): number {
  const qx = Math.min(Math.max(x, 0), w - 1);
  const qy = Math.min(Math.max(y, 0), h - 1);
  const x0 = Math.floor(qx);
  const y0 = Math.floor(qy);
  const tx = qx - x0;
  const ty = qy - y0;
  const x1 = Math.min(x0 + 1, w - 1);
  const y1 = Math.min(y0 + 1, h - 1);
  const a = data[base + y0 * w + x0]!;
  const b = data[base + y0 * w + x1]!;
  const c = data[base + y1 * w + x0]!;
  const d = data[base + y1 * w + x1]!;
  const top = a + (b - a) * tx;
  const bottom = c + (d - c) * tx;
  return top + (bottom - top) * ty;
}

export function upsampleFlow(
  coarse: Float32Array,
  cw: number,
  ch: number,
  w: number,
  h: number,
  out: Float32Array = new Float32Array(2 * w * h),
): Float32Array {
  const rx = cw / w;
  const ry = ch / h;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const px = (x + 0.5) * rx - 0.5;
      const py = (y + 0.5) * ry - 0.5;
      out[y * w + x] = bilinear(coarse, 0, cw, ch, px, py) / rx;
      out[w * h + y * w + x] = bilinear(coarse, cw * ch, cw, ch, px, py) / ry;
    }
  }
  return out;
}

/**
 * One Gauss-Newton step. `out` may be `flow` itself: pixel i reads only flow[i] (and the frames)
 * before writing out[i].
 */
export function lkStep(
  cur: Float32Array,
  prev: Float32Array,
  flow: Float32Array,
  w: number,
  h: number,
  radius: number,
  lambda: number,
  out: Float32Array = new Float32Array(2 * w * h),
): Float32Array {
  const plane = w * h;
  const at = (x: number, y: number): number => cur[clampi(y, 0, h - 1) * w + clampi(x, 0, w - 1)]!;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const i = y * w + x;
      const dx = flow[i]!;
      const dy = flow[i + plane]!;
      let gxx = 0;
      let gxy = 0;
      let gyy = 0;
      let bx = 0;
      let by = 0;
      let count = 0;
      for (let v = -radius; v <= radius; v++) {
        const qy = y + v;
        if (qy < 0 || qy > h - 1) continue;
        for (let u = -radius; u <= radius; u++) {
          const qx = x + u;
          const px = qx + dx;
          const py = qy + dy;
          if (qx < 0 || qx > w - 1 || px < 0 || px > w - 1 || py < 0 || py > h - 1) continue;
          count++;
          const gx = 0.5 * (at(qx + 1, qy) - at(qx - 1, qy));
          const gy = 0.5 * (at(qx, qy + 1) - at(qx, qy - 1));
          const e = at(qx, qy) - bilinear(prev, 0, w, h, px, py);
          gxx += gx * gx;
          gxy += gx * gy;
          gyy += gy * gy;
          bx += gx * e;
          by += gy * e;
        }
      }
      const a = gxx + lambda * count;
      const c = gyy + lambda * count;
      const det = a * c - gxy * gxy;
      let sx = 0;
      let sy = 0;
      if (det > 0) {
        sx = (c * bx - gxy * by) / det;
        sy = (a * by - gxy * bx) / det;
      }
      out[i] = dx + Math.min(Math.max(sx, -MAX_STEP), MAX_STEP);
      out[i + plane] = dy + Math.min(Math.max(sy, -MAX_STEP), MAX_STEP);
    }
  }
  return out;
}

/** `out` must not be `flow` (each pixel reads its neighbours); `v` is a 9-entry scratch. */
export function median3x3(
  flow: Float32Array,
  w: number,
  h: number,
  out: Float32Array = new Float32Array(2 * w * h),
  v: Float64Array = new Float64Array(9),
): Float32Array {
  const plane = w * h;
  for (let comp = 0; comp < 2; comp++) {
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        for (let j = 0; j < 3; j++) {
          for (let k = 0; k < 3; k++) {
            const qx = clampi(x + k - 1, 0, w - 1);
            const qy = clampi(y + j - 1, 0, h - 1);
            v[j * 3 + k] = flow[comp * plane + qy * w + qx]!;
          }
        }
        v.sort();
        out[comp * plane + y * w + x] = v[4]!;
      }
    }
  }
  return out;
}

/**
 * CPU reference of the pyramidal Lucas-Kanade flow: the same passes as flow.wgsl, computed in f64
 * with every stored plane rounded to f32 as the GPU buffers are. Returns [2, H, W].
 */
export function flowRef(
  current: Float32Array,
  previous: Float32Array,
  options: FlowOptions,
): Float32Array {
  const opts = resolveFlowOptions(options);
  const levels = flowLevels(opts);
  const [w0, h0] = levels[0]!;
  const cur = [toGray(current, opts.channels, w0 * h0)];
  const prev = [toGray(previous, opts.channels, w0 * h0)];
  for (let l = 1; l < levels.length; l++) {
    const [fw, fh] = levels[l - 1]!;
    const [w, h] = levels[l]!;
    cur.push(downsample(cur[l - 1]!, fw, fh, w, h));
    prev.push(downsample(prev[l - 1]!, fw, fh, w, h));
  }
  let flow: Float32Array | undefined;
  for (let l = levels.length - 1; l >= 0; l--) {
    const [w, h] = levels[l]!;
    if (flow) {
      const [cw, ch] = levels[l + 1]!;
      flow = upsampleFlow(flow, cw, ch, w, h);
    } else {
      flow = new Float32Array(2 * w * h);
    }
    for (let it = 0; it < opts.iterations; it++) {
      flow = lkStep(cur[l]!, prev[l]!, flow, w, h, opts.radius, opts.lambda);
    }
    flow = median3x3(flow, w, h);
  }
  return flow!;
}
