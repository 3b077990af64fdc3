import { ADAIN_EPS, type AdainParams } from './adain.ts';

/** Per channel mean and std (unbiased variance + eps, then sqrt), accumulated in f64. */
export function meanStdRef(
  tensor: Float32Array,
  channels: number,
  plane: number,
  eps = ADAIN_EPS,
): { mean: number[]; std: number[] } {
  const mean: number[] = [];
  const std: number[] = [];
  for (let c = 0; c < channels; c++) {
    let sum = 0;
    for (let i = 0; i < plane; i++) sum += tensor[c * plane + i]!;
    const m = sum / plane;
    let sq = 0;
    for (let i = 0; i < plane; i++) sq += (tensor[c * plane + i]! - m) ** 2;
    mean.push(m);
    std.push(Math.sqrt(sq / Math.max(plane - 1, 1) + eps));
  }
  return { mean, std };
}

/** CPU reference of StableSR/DLoRAL `adain_color_fix` on planar tensors (f64, rounded at the end). */
export function adainRef(
  content: Float32Array,
  reference: Float32Array,
  params: AdainParams,
): Float32Array<ArrayBuffer> {
  const plane = params.width * params.height;
  const eps = params.eps ?? ADAIN_EPS;
  const own = meanStdRef(content, params.channels, plane, eps);
  const target = meanStdRef(reference, params.channels, plane, eps);
  const out = new Float32Array(params.channels * plane);
  for (let c = 0; c < params.channels; c++) {
    const [m, s, tm, ts] = [own.mean[c]!, own.std[c]!, target.mean[c]!, target.std[c]!];
    for (let i = 0; i < plane; i++) {
      const k = c * plane + i;
      out[k] = ((content[k]! - m) / s) * ts + tm;
    }
  }
  return out;
}
