/**
 * Every GPU-to-CPU copy in Upframe goes through readBuffer, so the count is a fact that tests and
 * benchmarks can assert (the zero-copy frame path must keep it at 0 per frame). Lint forbids
 * calling mapAsync anywhere else.
 */
let readbacks = 0;
let readbackBytes = 0;

export function readbackCount(): number {
  return readbacks;
}

export function readbackByteCount(): number {
  return readbackBytes;
}

export function resetReadbackCount(): void {
  readbacks = 0;
  readbackBytes = 0;
}

/** Copies `byteLength` bytes of `source` (which needs COPY_SRC) to a new ArrayBuffer. */
export async function readBuffer(
  device: GPUDevice,
  source: GPUBuffer,
  byteLength = source.size,
  sourceOffset = 0,
): Promise<ArrayBuffer> {
  const size = Math.ceil(byteLength / 4) * 4;
  const staging = device.createBuffer({
    size,
    usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
  });
  try {
    const encoder = device.createCommandEncoder();
    encoder.copyBufferToBuffer(source, sourceOffset, staging, 0, size);
    device.queue.submit([encoder.finish()]);
    readbacks += 1;
    readbackBytes += byteLength;
    await staging.mapAsync(GPUMapMode.READ);
    return staging.getMappedRange(0, size).slice(0, byteLength);
  } finally {
    staging.destroy();
  }
}

export async function readFloat32(
  device: GPUDevice,
  source: GPUBuffer,
  count: number,
): Promise<Float32Array> {
  return new Float32Array(await readBuffer(device, source, count * 4));
}

/** Reads an rgba8unorm texture (tightly packed RGBA bytes, row by row). */
export async function readTextureRgba8(
  device: GPUDevice,
  texture: GPUTexture,
  width = texture.width,
  height = texture.height,
): Promise<Uint8Array> {
  const bytesPerRow = Math.ceil((width * 4) / 256) * 256;
  const padded = device.createBuffer({
    size: bytesPerRow * height,
    usage: GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST,
  });
  try {
    const encoder = device.createCommandEncoder();
    encoder.copyTextureToBuffer({ texture }, { buffer: padded, bytesPerRow }, { width, height });
    device.queue.submit([encoder.finish()]);
    const raw = new Uint8Array(await readBuffer(device, padded));
    const out = new Uint8Array(width * height * 4);
    for (let y = 0; y < height; y++) {
      out.set(raw.subarray(y * bytesPerRow, y * bytesPerRow + width * 4), y * width * 4);
    }
    return out;
  } finally {
    padded.destroy();
  }
}
