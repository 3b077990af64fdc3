import { bicubicScale, type BicubicParams } from './bicubic.ts';

const f = Math.fround;
const A = -0.75;

function conv1(d: number): number {
  return f(f(f(f(f((A + 2) * d) - (A + 3)) * d) * d) + 1);
}

function conv2(d: number): number {
  return f(f(f(f(f(f(A * d) - 5 * A) * d) + 8 * A) * d) - 4 * A);
}

function weights(t: number): [number, number, number, number] {
  return [conv2(f(t + 1)), conv1(t), conv1(f(1 - t)), conv2(f(2 - t))];
}

/** CPU reference of the bicubic kernel (f32 arithmetic step by step, PyTorch's order). */
export function bicubicRef(input: Float32Array, params: BicubicParams): Float32Array<ArrayBuffer> {
  const { channels, inWidth: w, inHeight: h, outWidth: w2, outHeight: h2 } = params;
  const [sx, sy] = bicubicScale(params);
  const out = new Float32Array(channels * w2 * h2);
  const xTaps = new Int32Array(w2 * 4);
  const xWeights = new Float32Array(w2 * 4);
  for (let x = 0; x < w2; x++) {
    const s = f(f(f(x + 0.5) * sx) - 0.5);
    const i0 = Math.floor(s);
    const wx = weights(f(s - i0));
    for (let k = 0; k < 4; k++) {
      xTaps[x * 4 + k] = Math.min(Math.max(i0 - 1 + k, 0), w - 1);
      xWeights[x * 4 + k] = wx[k]!;
    }
  }
  for (let c = 0; c < channels; c++) {
    const plane = c * w * h;
    for (let y = 0; y < h2; y++) {
      const s = f(f(f(y + 0.5) * sy) - 0.5);
      const j0 = Math.floor(s);
      const wy = weights(f(s - j0));
      for (let x = 0; x < w2; x++) {
        let acc = 0;
        for (let j = 0; j < 4; j++) {
          const row = plane + Math.min(Math.max(j0 - 1 + j, 0), h - 1) * w;
          let r = 0;
          for (let k = 0; k < 4; k++) {
            r = f(r + f(input[row + xTaps[x * 4 + k]!]! * xWeights[x * 4 + k]!));
          }
          acc = f(acc + f(r * wy[j]!));
        }
        out[(c * h2 + y) * w2 + x] = acc;
      }
    }
  }
  return out;
}
