import { jobWorker } from '../worker/client.ts';
import { preferredBackend } from '../worker/protocol.ts';
import { toErrorInfo } from '../shared/errors.ts';
import {
  MAX_COMPARED_FRAMES,
  updateSlice,
  useStore,
  type CompareMode,
  type ComparedFrame,
} from './store.ts';

/**
 * Asks the worker for the GPU. Without WebGPU, or when the only adapter is a software one (a CPU
 * rasteriser such as SwiftShader, on which ORT's WebGPU backend runs some 100x slower than its
 * wasm backend), the app starts on the wasm backend; the setting can still pick the GPU.
 */
export async function probeGpu(): Promise<void> {
  try {
    const gpu = await jobWorker().call('gpu.probe', {});
    updateSlice('settings', { gpu, backend: preferredBackend(gpu) });
  } catch (err) {
    updateSlice('settings', {
      gpu: { available: false, error: toErrorInfo(err) },
      backend: 'wasm',
    });
  }
}

export function setSplit(fraction: number): void {
  const split = Math.min(1, Math.max(0, fraction));
  if (split !== useStore.getState().compare.split) updateSlice('compare', { split });
}

export function setCompareMode(mode: CompareMode): void {
  updateSlice('compare', { mode });
}

/** Zoom is a power of two between fit (1) and 64 output pixels per screen pixel. */
export function setZoom(zoom: number): void {
  const next = Math.min(64, Math.max(1, 2 ** Math.round(Math.log2(Math.max(zoom, 1e-6)))));
  if (next === 1) updateSlice('compare', { zoom: 1, panX: 0, panY: 0 });
  else updateSlice('compare', { zoom: next });
}

export function panBy(dx: number, dy: number): void {
  const { panX, panY, zoom } = useStore.getState().compare;
  if (zoom <= 1) return;
  updateSlice('compare', { panX: panX + dx, panY: panY + dy });
}

export function stepFrame(delta: number): void {
  const { index, frames } = useStore.getState().compare;
  const next = Math.min(frames.length - 1, Math.max(0, index + delta));
  if (next !== index) updateSlice('compare', { index: next });
}

/**
 * Adds a processed frame to the scrubber, keeping at most MAX_COMPARED_FRAMES (the ones added
 * most recently); the evicted frames' bitmaps are closed. `follow` moves the view to the new frame (during a render).
 */
const addedAt = new WeakMap<ComparedFrame, number>();
let addCounter = 0;

export function addComparedFrame(frame: ComparedFrame, follow = true): void {
  const { frames, index } = useStore.getState().compare;
  // a render's frames are followed while the viewer shows the newest one; a person who stepped
  // to another frame to look at it stays there
  const viewing = frames[index] ?? null;
  const newest = frames.reduce<ComparedFrame | null>(
    (a, f) => (a === null || (addedAt.get(f) ?? 0) > (addedAt.get(a) ?? 0) ? f : a),
    null,
  );
  const shownFrame = follow || viewing === newest ? frame : viewing;
  const kept = frames.filter((f) => f.frameIndex !== frame.frameIndex);
  for (const f of frames) {
    if (f.frameIndex === frame.frameIndex) closeFrame(f);
  }
  addedAt.set(frame, addCounter++);
  kept.push(frame);
  while (kept.length > MAX_COMPARED_FRAMES) {
    // evict the frame added longest ago (during a render: the oldest rendered one)
    let oldest = 0;
    for (let i = 1; i < kept.length; i++) {
      if ((addedAt.get(kept[i]!) ?? 0) < (addedAt.get(kept[oldest]!) ?? 0)) oldest = i;
    }
    const [evicted] = kept.splice(oldest, 1);
    if (evicted) closeFrame(evicted);
  }
  kept.sort((a, b) => a.frameIndex - b.frameIndex);
  const at = shownFrame ? kept.indexOf(shownFrame) : -1;
  const shown = at >= 0 ? at : Math.min(index, kept.length - 1);
  updateSlice('compare', { frames: kept, index: Math.max(0, shown) });
}

/** Drops the frames an earlier render showed (a new render starts): previews stay. */
export function dropRenderedFrames(): void {
  const { frames, index } = useStore.getState().compare;
  const kept = frames.filter((f) => !f.fromRender);
  if (kept.length === frames.length) return;
  for (const f of frames) if (f.fromRender) closeFrame(f);
  updateSlice('compare', { frames: kept, index: Math.min(index, Math.max(0, kept.length - 1)) });
}

/** Drops the frames shown (a new clip): its view starts whole, not at the last clip's zoom. */
export function clearComparedFrames(): void {
  for (const f of useStore.getState().compare.frames) closeFrame(f);
  updateSlice('compare', { frames: [], index: 0, zoom: 1, panX: 0, panY: 0 });
}

function closeFrame(frame: ComparedFrame): void {
  frame.beforeScaled.close();
  frame.after.close();
}
