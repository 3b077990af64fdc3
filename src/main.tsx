import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { loseGpu } from './state/job-actions.ts';
import { App } from './ui/app.tsx';
import './ui/app.css';

// A GPU reset on demand, for the end-to-end tests and for checking recovery by hand.
(window as { upframeLoseGpu?: () => Promise<boolean> }).upframeLoseGpu = loseGpu;

const root = document.getElementById('root');
if (!root) throw new Error('index.html has no #root element');
createRoot(root).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
