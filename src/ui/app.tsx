import { useEffect, useSyncExternalStore } from 'react';
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

/** Where the page is one column (app.css has the same width). */
const ONE_COLUMN = '(max-width: 900px)';

function useMediaQuery(query: string): boolean {
  return useSyncExternalStore(
    (changed) => {
      const list = window.matchMedia(query);
      list.addEventListener('change', changed);
      return () => list.removeEventListener('change', changed);
    },
    () => window.matchMedia(query).matches,
  );
}

export function App() {
  const recoveryChecked = useStore((s) => s.recovery.checked);
  const narrow = useMediaQuery(ONE_COLUMN);
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
        {narrow ? (
          // one column, in the order it is seen (the keyboard's order is the page's order)
          <div className="column">
            <SourcePanel />
            <CompareView />
            <RenderPanel />
            <SettingsPanel />
          </div>
        ) : (
          <>
            <div className="sidebar">
              <SourcePanel />
              <SettingsPanel />
            </div>
            <div className="main-column">
              <CompareView />
              <RenderPanel />
            </div>
          </>
        )}
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
