/**
 * The page that `npm run enhance` and `npm run bench` drive in headless Chromium. It uses the
 * same worker client and the same job code as the app, so the command line runs exactly the
 * app's pipeline. The finished file is handed over as a download (streamed from OPFS, never
 * held in page memory).
 */
import { toErrorInfo, type ErrorInfo } from '../shared/errors.ts';
import { jobWorker } from '../worker/client.ts';
import type { GpuStatus, JobResult, WorkerEvent } from '../worker/protocol.ts';
import type { JobSettings } from '../worker/settings.ts';

export type HarnessOutcome =
  | { readonly ok: true; readonly result: Omit<JobResult, 'bytes'>; readonly fileName: string }
  | { readonly ok: false; readonly error: ErrorInfo };

export interface HarnessApi {
  probeGpu(): Promise<GpuStatus>;
  /** Enhances the file chosen in #input; the output arrives as a download named `fileName`. */
  enhance(settings: JobSettings, fileName: string): Promise<HarnessOutcome>;
}

declare global {
  interface Window {
    upframe?: HarnessApi;
    upframeEvent?: (event: unknown) => void;
  }
}

let nextJob = 1;

async function enhance(settings: JobSettings, fileName: string): Promise<HarnessOutcome> {
  const input = document.getElementById('input') as HTMLInputElement | null;
  const file = input?.files?.[0];
  if (!file)
    return { ok: false, error: { code: 'INVALID_OPTION', message: 'No input file was given.' } };
  const client = jobWorker();
  const off = client.subscribe((event: WorkerEvent) => {
    if (event.kind === 'preview') {
      event.before.close();
      event.after.close();
      window.upframeEvent?.({ kind: 'preview', frameIndex: event.frameIndex });
    } else {
      window.upframeEvent?.(event);
    }
  });
  const opfsName = `upframe-cli-${Date.now()}-${nextJob}.out`;
  try {
    const result = await client.call('job.start', {
      jobId: nextJob++,
      file,
      settings,
      output: { type: 'opfs', name: opfsName },
    });
    const root = await navigator.storage.getDirectory();
    const handle = await root.getFileHandle(opfsName);
    const url = URL.createObjectURL(await handle.getFile());
    const link = document.createElement('a');
    link.href = url;
    link.download = fileName;
    document.body.append(link);
    link.click();
    link.remove();
    const { bytes: _bytes, ...rest } = result;
    return { ok: true, result: rest, fileName };
  } catch (err) {
    return { ok: false, error: toErrorInfo(err) };
  } finally {
    off();
  }
}

const api: HarnessApi = {
  probeGpu: () => jobWorker().call('gpu.probe', {}),
  enhance,
};

window.upframe = api;
document.body.dataset['ready'] = 'true';
