import { useEffect } from 'react';
import { probeGpu } from '../state/actions.ts';
import { CompareView } from './compare-view.tsx';
import { DropTarget } from './drop-target.tsx';
import { GpuBadge } from './gpu-badge.tsx';
import { SourcePanel } from './source-panel.tsx';

export function App() {
  useEffect(() => {
    void probeGpu();
  }, []);
  return (
    <DropTarget>
      <header className="top-bar">
        <h1 className="brand">
          Upframe <span className="brand-sub">video enhancement, on your GPU, in this tab</span>
        </h1>
        <GpuBadge />
      </header>
      <main className="workspace">
        <SourcePanel />
        <CompareView />
      </main>
    </DropTarget>
  );
}
