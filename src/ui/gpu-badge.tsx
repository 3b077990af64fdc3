import { useShallow } from 'zustand/react/shallow';
import { useStore } from '../state/store.ts';

export function GpuBadge() {
  const { gpu, backend } = useStore(
    useShallow((s) => ({ gpu: s.settings.gpu, backend: s.settings.backend })),
  );
  if (!gpu) {
    return (
      <div className="badge" role="status" data-testid="gpu-status">
        Checking the GPU…
      </div>
    );
  }
  if (!gpu.available) {
    return (
      <div className="badge badge-warn" role="status" data-testid="gpu-status">
        WebGPU unavailable — running on the CPU ({backend}).{' '}
        <span className="muted">{gpu.error?.message}</span>
      </div>
    );
  }
  const info = gpu.info;
  const name = [info?.vendor, info?.architecture, info?.description].filter(Boolean).join(' · ');
  const adapter = name || 'unknown adapter';
  if (info?.isFallbackAdapter) {
    // a software adapter is no GPU: say first where the work runs
    return (
      <div className="badge" role="status" data-testid="gpu-status">
        {backend === 'wasm'
          ? `Running on the CPU (wasm): WebGPU here is a software adapter (${adapter}), slower than the CPU.`
          : `WebGPU on a software adapter (${adapter}): slow.`}
      </div>
    );
  }
  return (
    <div className="badge badge-ok" role="status" data-testid="gpu-status">
      WebGPU ready: {adapter}
      {backend === 'wasm' ? ' · running on the CPU (wasm), as chosen' : ''}
    </div>
  );
}
