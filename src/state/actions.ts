import { jobWorker } from '../worker/client.ts';
import { toErrorInfo } from '../shared/errors.ts';
import { updateSlice, useStore } from './store.ts';

/** Asks the worker for the GPU; without WebGPU the app falls back to the wasm backend. */
export async function probeGpu(): Promise<void> {
  try {
    const gpu = await jobWorker().call('gpu.probe', {});
    updateSlice('settings', { gpu, backend: gpu.available ? 'webgpu' : 'wasm' });
  } catch (err) {
    updateSlice('settings', {
      gpu: { available: false, error: toErrorInfo(err) },
      backend: 'wasm',
    });
  }
}

export function openSource(file: File): void {
  if (file.size === 0) {
    updateSlice('source', {
      file,
      error: { code: 'EMPTY_FILE', message: `"${file.name}" is empty (0 bytes).` },
    });
    return;
  }
  updateSlice('source', { file, error: null });
}

export function setSplit(fraction: number): void {
  const split = Math.min(1, Math.max(0, fraction));
  if (split !== useStore.getState().compare.split) updateSlice('compare', { split });
}
