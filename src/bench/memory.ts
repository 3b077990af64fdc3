/**
 * JS heap figures for the bench. Chromium's `performance.memory` is the only synchronous heap
 * counter a page has; without --enable-precise-memory-info it is bucketed and delayed, so the bench
 * driver launches Chromium with that flag and the JSON says which source the numbers came from.
 */
import type { MemorySource } from './types.ts';

interface ChromiumMemory {
  readonly usedJSHeapSize: number;
}

function chromiumMemory(): ChromiumMemory | null {
  const m = (performance as Performance & { memory?: ChromiumMemory }).memory;
  return m && typeof m.usedJSHeapSize === 'number' ? m : null;
}

export function memorySource(): MemorySource {
  return chromiumMemory() ? 'performance.memory' : 'none';
}

export function heapBytes(): number | null {
  return chromiumMemory()?.usedJSHeapSize ?? null;
}

/**
 * Collects garbage when Chromium runs with --js-flags=--expose-gc, then reads the heap. One
 * collection left figures 30-50 MiB apart between checkpoints of the same long clip (what one
 * pass frees can make more garbage collectable); three give a steadier floor.
 */
export function heapAfterGc(): number | null {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) return null;
  for (let i = 0; i < 3; i++) gc();
  return heapBytes();
}

/** Keeps the largest heap figure seen by `sample`. */
export class HeapPeak {
  private peak: number | null = null;

  sample(): void {
    const now = heapBytes();
    if (now !== null) this.peak = Math.max(this.peak ?? 0, now);
  }

  get value(): number | null {
    return this.peak;
  }
}
