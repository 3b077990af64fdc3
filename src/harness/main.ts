/**
 * The page that `npm run enhance` and `npm run bench` drive in headless Chromium. It uses the
 * same worker client and the same job code as the app, so the command line runs exactly the
 * app's pipeline. The finished file is handed over as a download (streamed from OPFS, never
 * held in page memory).
 */
import { toErrorInfo, type ErrorInfo } from '../shared/errors.ts';
import { jobWorker, probeSource } from '../worker/client.ts';
import type { GpuStatus, JobResult, WorkerEvent } from '../worker/protocol.ts';
import type { JobSettings } from '../worker/settings.ts';
import type { VideoCodecChoice } from '../media/index.ts';

export type HarnessOutcome =
  | { readonly ok: true; readonly result: Omit<JobResult, 'bytes'>; readonly fileName: string }
  | { readonly ok: false; readonly error: ErrorInfo };

export interface HarnessApi {
  probeGpu(): Promise<GpuStatus>;
  /**
   * The largest of 4x and 2x whose output this browser can encode with `codec` for the file in
   * #input (null when neither can), with the file's frame size (the page's rule, job-actions.ts).
   */
  fitScale(codec: VideoCodecChoice): Promise<{
    scale: 2 | 4 | null;
    width: number;
    height: number;
    /** Where `codec` takes only 2x: the other output codecs that take 4x. */
    takes4: VideoCodecChoice[];
  } | null>;
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

async function fitScale(codec: VideoCodecChoice): ReturnType<HarnessApi['fitScale']> {
  const file = (document.getElementById('input') as HTMLInputElement | null)?.files?.[0];
  if (!file) return null;
  const summary = await probeSource(file);
  if (!summary.decodable) return null;
  const client = jobWorker();
  const { width, height, averageFps } = summary.video;
  const fps = averageFps > 0 ? averageFps : 30;
  const { scale } = await client.call('encode.scale', {
    codec,
    width,
    height,
    fps,
    scales: [4, 2],
  });
  // where the codec takes only 2x, the codecs that take 4x (the command line names them)
  const takes4: VideoCodecChoice[] = [];
  if (scale === 2) {
    for (const other of ['avc', 'vp9', 'av1'] as const) {
      if (other === codec) continue;
      const fit = await client.call('encode.scale', {
        codec: other,
        width,
        height,
        fps,
        scales: [4],
      });
      if (fit.scale === 4) takes4.push(other);
    }
  }
  return { scale: scale === 4 || scale === 2 ? scale : null, width, height, takes4 };
}

const api: HarnessApi = {
  probeGpu: () => jobWorker().call('gpu.probe', {}),
  fitScale,
  enhance,
};

window.upframe = api;
document.body.dataset['ready'] = 'true';
