/**
 * The page that `npm run enhance` and `npm run bench` drive in headless Chromium. It exposes the
 * same worker client the UI uses, so the command line runs exactly the app's pipeline.
 */
import { jobWorker } from '../worker/client.ts';
import type { GpuStatus } from '../worker/protocol.ts';

export interface HarnessApi {
  probeGpu(): Promise<GpuStatus>;
}

const api: HarnessApi = {
  probeGpu: () => jobWorker().call('gpu.probe', {}),
};

declare global {
  interface Window {
    upframe?: HarnessApi;
  }
}

window.upframe = api;
document.body.dataset['ready'] = 'true';
