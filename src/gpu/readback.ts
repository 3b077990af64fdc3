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

/**
 * Reads a whole rgba8unorm texture every frame through buffers made once: the copy target and
 * the mappable staging buffer are reused, so a steady stream of frames allocates nothing. Rows
 * keep WebGPU's 256-byte padding; `bytesPerRow` says the stride.
 */
export class TextureReader {
  readonly bytesPerRow: number;
  private readonly staging: GPUBuffer;

  constructor(
    private readonly device: GPUDevice,
    readonly width: number,
    readonly height: number,
  ) {
    this.bytesPerRow = Math.ceil((width * 4) / 256) * 256;
    this.staging = device.createBuffer({
      size: this.bytesPerRow * height,
      usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
    });
  }

  /** Encodes the copy into `encoder`; call `read` after submitting it. */
  encodeCopy(encoder: GPUCommandEncoder, texture: GPUTexture): void {
    encoder.copyTextureToBuffer(
      { texture },
      { buffer: this.staging, bytesPerRow: this.bytesPerRow },
      { width: this.width, height: this.height },
    );
  }

  /** Maps the staging buffer and copies it out (the one counted readback). */
  async read(): Promise<Uint8Array<ArrayBuffer>> {
    readbacks += 1;
    readbackBytes += this.bytesPerRow * this.height;
    await this.staging.mapAsync(GPUMapMode.READ);
    try {
      return new Uint8Array(this.staging.getMappedRange().slice(0));
    } finally {
      this.staging.unmap();
    }
  }

  destroy(): void {
    this.staging.destroy();
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Whether `device` is lost, asked directly (here because only this module maps buffers; the
 * probe reads nothing, so it is not counted as a readback). After destroy() a pending mapAsync
 * fails at once on the page's side, while device.lost resolves only when the GPU process
 * answers, so the failed call's error can arrive first. Mapping a fresh 4-byte buffer answers: it
 * fails on a lost device and succeeds, once the queued work is done, on one that works. Resolves
 * with the loss message, or null when the device works (or nothing answers within `timeoutMs`,
 * a hung GPU).
 */
export async function deviceLoss(device: GPUDevice, timeoutMs = 60_000): Promise<string | null> {
  const lost = device.lost.then((info) => info.message || info.reason);
  const probe = (async (): Promise<string | null> => {
    let buffer: GPUBuffer | null = null;
    try {
      buffer = device.createBuffer({ size: 4, usage: GPUBufferUsage.MAP_READ });
      await buffer.mapAsync(GPUMapMode.READ);
      return null;
    } catch (err) {
      // prefer the device's own reason when it arrives soon after
      const fallback = err instanceof Error ? err.message : String(err);
      return await Promise.race([lost, sleep(500).then(() => fallback)]);
    } finally {
      buffer?.destroy();
    }
  })();
  return await Promise.race([lost, probe, sleep(timeoutMs).then(() => null)]);
}
