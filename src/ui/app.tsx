import { useEffect } from 'react';
import { probeGpu } from '../state/actions.ts';
import { listenToWorker, loadPacks, loadRecovery } from '../state/job-actions.ts';
import { CompareView } from './compare-view.tsx';
import { DropTarget } from './drop-target.tsx';
import { GpuBadge } from './gpu-badge.tsx';
import { RecoveryBanner } from './recovery-banner.tsx';
import { useStore } from '../state/store.ts';
import { RenderPanel } from './render-panel.tsx';
import { SettingsPanel } from './settings-panel.tsx';
import { SourcePanel } from './source-panel.tsx';

export function App() {
  const recoveryChecked = useStore((s) => s.recovery.checked);
  useEffect(() => {
    listenToWorker();
    void probeGpu();
    void loadPacks();
    void loadRecovery(true);
  }, []);
  return (
    <DropTarget>
      <header className="top-bar">
        <h1 className="brand">
          Upframe <span className="brand-sub">video enhancement, on your GPU, in this tab</span>
        </h1>
        <GpuBadge />
      </header>
      <RecoveryBanner />
      <main className="workspace" data-recovery-checked={recoveryChecked}>
        <div className="sidebar">
          <SourcePanel />
          <SettingsPanel />
        </div>
        <div className="main-column">
          <CompareView />
          <RenderPanel />
        </div>
      </main>
      <footer className="page-foot">
        Nothing is uploaded: your clips and their frames stay on this computer.{' '}
        <a href="./third-party-licences.txt" target="_blank" rel="noreferrer">
          Licences of the software and models inside
        </a>
      </footer>
    </DropTarget>
  );
}
