/**
 * Buffers are pooled per job: a stage asks for a buffer of a size and usage, gives it back when
 * the frame is done, and the next frame gets the same buffer. `allocations` counts real
 * createBuffer calls so a test can prove the steady state allocates nothing per frame.
 */
export interface PoolStats {
  readonly allocations: number;
  readonly liveBytes: number;
  readonly peakBytes: number;
  readonly freeBuffers: number;
}

const ALIGN = 256;

export class BufferPool {
  private readonly free = new Map<string, GPUBuffer[]>();
  private readonly owned = new Set<GPUBuffer>();
  private allocations = 0;
  private liveBytes = 0;
  private peakBytes = 0;

  constructor(private readonly device: GPUDevice) {}

  /** A buffer of at least `size` bytes with exactly `usage`; contents are undefined. */
  acquire(size: number, usage: GPUBufferUsageFlags, label?: string): GPUBuffer {
    const rounded = Math.max(ALIGN, Math.ceil(size / ALIGN) * ALIGN);
    const key = `${rounded}:${usage}`;
    const reused = this.free.get(key)?.pop();
    if (reused) return reused;
    const buffer = this.device.createBuffer({
      size: rounded,
      usage,
      ...(label === undefined ? {} : { label }),
    });
    this.owned.add(buffer);
    this.allocations += 1;
    this.liveBytes += rounded;
    this.peakBytes = Math.max(this.peakBytes, this.liveBytes);
    return buffer;
  }

  release(buffer: GPUBuffer): void {
    if (!this.owned.has(buffer))
      throw new Error('BufferPool.release: buffer is not from this pool');
    const key = `${buffer.size}:${buffer.usage}`;
    const list = this.free.get(key);
    if (list) {
      if (list.includes(buffer)) throw new Error('BufferPool.release: buffer released twice');
      list.push(buffer);
    } else {
      this.free.set(key, [buffer]);
    }
  }

  stats(): PoolStats {
    let freeBuffers = 0;
    for (const list of this.free.values()) freeBuffers += list.length;
    return {
      allocations: this.allocations,
      liveBytes: this.liveBytes,
      peakBytes: this.peakBytes,
      freeBuffers,
    };
  }

  /** Destroys every buffer the pool made, in use or not; the pool is empty afterwards. */
  destroy(): void {
    for (const buffer of this.owned) buffer.destroy();
    this.owned.clear();
    this.free.clear();
    this.liveBytes = 0;
  }
}
