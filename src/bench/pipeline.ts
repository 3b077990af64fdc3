/**
 * A bench run is the app's own transcode (media/) with the app's own enhancer as `process`, the
 * same call the job worker makes; only the target differs: bytes are counted and dropped, so disk
 * speed is not measured and the output cannot make memory grow.
 */
import type { StreamTargetChunk } from 'mediabunny';
import { createSrEnhancer } from '../engine/create-enhancer.ts';
import type { FrameEnhancer } from '../engine/enhancer.ts';
import { loadPack, type PackSource } from '../engine/packs.ts';
import { planTiles } from '../engine/tiling.ts';
import { autoTileSize } from '../engine/create-enhancer.ts';
import { sharedGpu } from '../gpu/device.ts';
import { readbackCount } from '../gpu/readback.ts';
import { peakOpenFrameCount, resetPeakOpenFrameCount } from '../media/frame.ts';
import { transcode, type OutputTarget } from '../media/index.ts';
import { HeapPeak } from './memory.ts';
import type { RunFigures } from './types.ts';

export class DiscardTarget implements OutputTarget {
  bytesWritten = 0;

  open(): WritableStream<StreamTargetChunk> {
    return new WritableStream<StreamTargetChunk>({
      write: (chunk) => {
        this.bytesWritten = Math.max(this.bytesWritten, chunk.position + chunk.data.byteLength);
      },
    });
  }

  commit(): Promise<void> {
    return Promise.resolve();
  }

  abort(): Promise<void> {
    return Promise.resolve();
  }
}

/**
 * Keeps the written file as a Blob, which Chromium holds outside the JS heap (as the app's part
 * is a file on disk): writes come in order, except small patches of the last megabyte, which is
 * held as bytes until more follows.
 */
export class BlobTarget implements OutputTarget {
  bytesWritten = 0;
  private sealed: Blob[] = [];
  private sealedBytes = 0;
  private tail = new Uint8Array(0);

  open(): WritableStream<StreamTargetChunk> {
    return new WritableStream<StreamTargetChunk>({
      write: (chunk) => {
        const at = chunk.position - this.sealedBytes;
        if (at < 0) throw new Error('BlobTarget: a write behind the bytes already sealed');
        const end = at + chunk.data.byteLength;
        if (end > this.tail.byteLength) {
          const grown = new Uint8Array(end);
          grown.set(this.tail);
          this.tail = grown;
        }
        this.tail.set(chunk.data, at);
        this.bytesWritten = Math.max(this.bytesWritten, chunk.position + chunk.data.byteLength);
        const keep = 1 << 20;
        if (this.tail.byteLength > 8 * keep) {
          const cut = this.tail.byteLength - keep;
          this.sealed.push(new Blob([this.tail.slice(0, cut)]));
          this.sealedBytes += cut;
          this.tail = this.tail.slice(cut);
        }
      },
    });
  }

  blob(): Blob {
    return new Blob([...this.sealed, this.tail]);
  }

  commit(): Promise<void> {
    return Promise.resolve();
  }

  abort(): Promise<void> {
    return Promise.resolve();
  }
}

export async function fetchClip(url: string): Promise<Blob> {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
  return response.blob();
}

export interface RunOptions {
  readonly frameRange?: { readonly start: number; readonly end: number };
  /** Write a render part (fragmented MP4, as the app does) into this target instead of dropping the bytes. */
  readonly part?: OutputTarget;
  /** Called after every frame (e.g. to sample memory at checkpoints). */
  readonly onFrame?: (framesDone: number) => void;
}

/** One timed transcode of `clip` through `enhancer` (null = identity). */
export async function timedRun(
  clip: Blob,
  enhancer: FrameEnhancer | null,
  options: RunOptions = {},
): Promise<RunFigures> {
  const heap = new HeapPeak();
  heap.sample();
  resetPeakOpenFrameCount();
  const readbacksBefore = readbackCount();
  const started = performance.now();
  const result = await transcode({
    input: clip,
    target: options.part ?? new DiscardTarget(),
    ...(options.part ? { part: true } : {}),
    codec: 'avc',
    quality: 'high',
    ...(options.frameRange ? { frameRange: options.frameRange } : {}),
    ...(enhancer
      ? {
          outputSize: () => ({ width: enhancer.outputWidth, height: enhancer.outputHeight }),
          process: (frame: VideoFrame) => enhancer.process(frame),
        }
      : {}),
    onProgress: (p) => {
      heap.sample();
      options.onFrame?.(p.framesDone);
    },
  });
  const seconds = (performance.now() - started) / 1000;
  const frames = Math.max(1, result.frames);
  return {
    frames: result.frames,
    seconds,
    fps: result.frames / seconds,
    stageMs: {
      decode: result.decodeMs / frames,
      enhance: result.processMs / frames,
      encode: result.encodeMs / frames,
    },
    readbacks: (readbackCount() - readbacksBefore) / frames,
    peakHeapBytes: heap.value,
    peakOpenFrames: peakOpenFrameCount(),
  };
}

export interface BuiltEnhancer {
  readonly enhancer: FrameEnhancer;
  readonly tileSize: number;
  readonly tiles: number;
}

/**
 * The same construction as worker/enhancers.ts (pack from the built-in set or a URL, the page's
 * one shared device), plus the tile plan so the table can state it.
 */
export async function buildSrEnhancer(
  source: PackSource,
  backend: 'webgpu' | 'wasm',
  width: number,
  height: number,
  tileSize: number,
  outputMode?: 'canvas' | 'readback',
): Promise<BuiltEnhancer> {
  const pack = await loadPack(source);
  const gpu = backend === 'webgpu' ? await sharedGpu(navigator.gpu) : null;
  const maxBinding = gpu?.device.limits.maxStorageBufferBindingSize ?? 128 * 1024 * 1024;
  const size = tileSize > 0 ? tileSize : autoTileSize(pack.manifest, maxBinding, backend);
  const overlap = Math.min(pack.manifest.tile?.overlap ?? 8, Math.floor(size / 4));
  const plan = planTiles(width, height, size, overlap);
  const enhancer = await createSrEnhancer(pack, {
    backend,
    width,
    height,
    tileSize: size,
    ...(gpu ? { device: gpu.device, adapterInfo: gpu.info } : {}),
    ...(outputMode ? { outputMode } : {}),
  });
  return { enhancer, tileSize: Math.min(size, Math.max(width, height)), tiles: plan.tiles.length };
}
