/**
 * Where a render goes: the file a person picks in the save dialog (written in place), or, where
 * the browser has none, a file in the origin-private file system that a download link reads;
 * and the tidying of both when a render stops.
 */
import { UpframeError } from '../shared/errors.ts';
import type { JobOutput } from '../worker/protocol.ts';
import type { OutputContainer } from '../worker/settings.ts';
import { updateSlice, useStore, type SavedOutput, type SettingsSlice } from './store.ts';

/** The saved file's name: the clip's, the scale, and the extension of the file type written. */
export function outputName(
  file: File,
  settings: SettingsSlice,
  container: OutputContainer,
): string {
  const base = file.name.replace(/\.[^.]+$/, '') || 'video';
  return `${base}.upframe-x${settings.scale}.${container}`;
}

const MIME_TYPES: Record<string, string> = {
  mp4: 'video/mp4',
  webm: 'video/webm',
  mkv: 'video/x-matroska',
};

type SavePicker = (options: {
  suggestedName: string;
  types: { description: string; accept: Record<string, string[]> }[];
}) => Promise<FileSystemFileHandle>;

/** Asks where to save when the browser can (the file streams there); else renders to OPFS. */
export async function chooseOutput(
  name: string,
): Promise<{ output: JobOutput; label: string } | null> {
  const picker = (window as unknown as { showSaveFilePicker?: SavePicker }).showSaveFilePicker;
  const ext = /\.([^.]+)$/.exec(name)?.[1]?.toLowerCase() ?? 'mp4';
  if (picker) {
    try {
      const handle = await picker({
        suggestedName: name,
        types: [
          {
            description: 'Video',
            accept: { [MIME_TYPES[ext] ?? 'video/mp4']: [`.${ext}`] },
          },
        ],
      });
      return { output: { type: 'handle', handle }, label: handle.name };
    } catch (err) {
      if ((err as { name?: string }).name === 'AbortError') return null;
      if (needsClick(err)) {
        // the click's activation ran out (a continuation first opened its clip again)
        throw new UpframeError(
          'INVALID_OPTION',
          'The browser wants one more click before it opens the save dialog: press the button again.',
        );
      }
      throw err;
    }
  }
  const opfsName = `${DOWNLOAD_PREFIX}${Date.now()}-${name}`;
  holdDownload(opfsName);
  return { output: { type: 'opfs', name: opfsName }, label: name };
}

/**
 * A download is a file in the origin-private file system that the page's link reads, so it must
 * stay while that page lives, and nothing else ever removes it. Each page holds a Web Lock per
 * download for its lifetime; the next page to start removes the downloads no page holds.
 */
const DOWNLOAD_PREFIX = 'render-';
const downloadLock = (name: string): string => `upframe-download-${name}`;

function holdDownload(name: string): void {
  void navigator.locks
    ?.request(downloadLock(name), () => new Promise<never>(() => undefined))
    .catch(() => undefined);
}

export async function dropStaleDownloads(): Promise<number> {
  if (!navigator.locks || !navigator.storage?.getDirectory) return 0;
  const root = await navigator.storage.getDirectory();
  const held = new Set(((await navigator.locks.query()).held ?? []).map((l) => l.name));
  let removed = 0;
  for await (const [name, handle] of (
    root as unknown as { entries(): AsyncIterable<[string, FileSystemHandle]> }
  ).entries()) {
    if (handle.kind !== 'file' || !name.startsWith(DOWNLOAD_PREFIX)) continue;
    if (held.has(downloadLock(name))) continue;
    await root.removeEntry(name).then(
      () => removed++,
      () => undefined,
    );
  }
  return removed;
}

/**
 * After a render or save into a picked file stopped: the browser made (or emptied) that file when
 * it was picked, and nothing was written to it, so it goes rather than stay as an empty file
 * under the name the person chose. A file with anything in it is never touched.
 */
export async function dropEmptyPick(output: JobOutput): Promise<void> {
  if (output.type !== 'handle') return;
  const handle = output.handle as FileSystemFileHandle & { remove?: () => Promise<void> };
  try {
    if ((await handle.getFile()).size === 0) await handle.remove?.();
  } catch {
    // gone already, or no longer ours to read: nothing to tidy
  }
}

export async function savedOutput(
  chosen: { output: JobOutput; label: string },
  name: string,
): Promise<SavedOutput> {
  if (chosen.output.type === 'opfs') {
    const root = await navigator.storage.getDirectory();
    const file = await (await root.getFileHandle(chosen.output.name)).getFile();
    return { kind: 'download', name, url: URL.createObjectURL(file) };
  }
  return { kind: 'file', name: chosen.label };
}

/**
 * Lists the renders a closed tab (or a lost GPU) left unfinished; at the page's start (`startup`)
 * it also removes the downloads of pages that are gone.
 */
/** A browser refusing a dialog or a permission prompt without a fresh click. */
export function needsClick(err: unknown): boolean {
  const name = (err as { name?: string } | null)?.name;
  return name === 'SecurityError' || name === 'NotAllowedError';
}

export function partialName(outputName: string): string {
  return /\.[^.]+$/.test(outputName)
    ? outputName.replace(/(\.[^.]+)$/, '.partial$1')
    : `${outputName}.partial`;
}

/** A finished render's download link stays offered when the page moves on from it. */
export function keepEarlierDownload(): void {
  const { job, downloads } = useStore.getState();
  const saved = job.saved;
  if (saved?.kind !== 'download' || downloads.earlier.some((d) => d.url === saved.url)) return;
  updateSlice('downloads', {
    earlier: [...downloads.earlier, { name: saved.name, url: saved.url }],
  });
}
