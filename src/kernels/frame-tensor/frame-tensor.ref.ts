import { RANGE_AFFINE, type Region, type TensorRange } from './frame-tensor.ts';

const f = Math.fround;

/** CPU reference of `to_tensor`: RGBA bytes (texW x texH) -> planar RGB float32 of the region. */
export function rgbaToTensorRef(
  rgba: Uint8Array,
  texWidth: number,
  texHeight: number,
  region: Region,
  range: TensorRange,
  /** Written and returned when given (the wasm pipelines reuse one buffer), else allocated. */
  out: Float32Array<ArrayBuffer> = new Float32Array(3 * region.width * region.height),
): Float32Array<ArrayBuffer> {
  const { scale, offset } = RANGE_AFFINE[range];
  const plane = region.width * region.height;
  for (let y = 0; y < region.height; y++) {
    for (let x = 0; x < region.width; x++) {
      const sx = Math.min(Math.max(region.x + x, 0), texWidth - 1);
      const sy = Math.min(Math.max(region.y + y, 0), texHeight - 1);
      const s = (sy * texWidth + sx) * 4;
      const i = y * region.width + x;
      for (let c = 0; c < 3; c++) {
        out[c * plane + i] = f(f(f((rgba[s + c] ?? 0) / 255) * scale) + offset);
      }
    }
  }
  return out;
}

/** The byte a tensor value becomes: clamp to the range, round half up to one of 256 levels. */
export function quantizeRef(value: number, range: TensorRange): number {
  const { scale, offset } = RANGE_AFFINE[range];
  const unit = Math.min(Math.max(f(f(value - offset) / scale), 0), 1);
  return Math.floor(f(unit * 255) + 0.5);
}

/**
 * CPU reference of `from_tensor`: planar RGB float32 (width x height) written at `origin` into an
 * RGBA texture of texW x texH whose other pixels keep `background`.
 */
export function tensorToRgbaRef(
  tensor: Float32Array,
  region: Region,
  texWidth: number,
  texHeight: number,
  range: TensorRange,
  background: Uint8Array = new Uint8Array(texWidth * texHeight * 4),
): Uint8Array<ArrayBuffer> {
  return tensorToRgbaInto(tensor, region, texWidth, texHeight, range, background.slice());
}

/** tensorToRgbaRef writing into `out` (texW x texH RGBA), whose pixels outside the region stay. */
export function tensorToRgbaInto<T extends Uint8Array>(
  tensor: Float32Array,
  region: Region,
  texWidth: number,
  texHeight: number,
  range: TensorRange,
  out: T,
): T {
  const plane = region.width * region.height;
  for (let y = 0; y < region.height; y++) {
    for (let x = 0; x < region.width; x++) {
      const tx = region.x + x;
      const ty = region.y + y;
      if (tx < 0 || ty < 0 || tx >= texWidth || ty >= texHeight) continue;
      const d = (ty * texWidth + tx) * 4;
      const i = y * region.width + x;
      for (let c = 0; c < 3; c++) out[d + c] = quantizeRef(tensor[c * plane + i] ?? 0, range);
      out[d + 3] = 255;
    }
  }
  return out;
}
