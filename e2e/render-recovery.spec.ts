/**
 * A render whose tab goes away mid-way (closed, crashed) keeps its frames: the next page offers to
 * save them and, with the same clip open again, to continue the render where it stopped. The
 * files are checked with ffmpeg/ffprobe: frame counts, timestamps, the audio, and that the
 * continued frames are the right frames of the source.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Page } from '@playwright/test';
import { expect, framesDone, screenshot, test, withoutSavePicker } from './guard.ts';
import { audioMd5, ffmpeg, framePts, psnr, srtOf, videoFacts } from './media-tools.ts';

const DIR = resolve('test-results', 'ui-recovery');
const CLIP = join(DIR, 'long take.mp4');
const FRAMES = 192; // 8 s at 24 fps; the output has a keyframe (and a fragment) every 48 frames

test.beforeAll(() => {
  mkdirSync(DIR, { recursive: true });
  ffmpeg([
    '-f',
    'lavfi',
    '-i',
    'testsrc2=size=64x36:rate=24',
    '-f',
    'lavfi',
    '-i',
    'sine=frequency=440:sample_rate=48000',
    // moving 2 pixels a frame, so that each frame differs clearly from its neighbours
    '-vf',
    'scroll=horizontal=0.03',
    '-t',
    '8',
    '-c:v',
    'libx264',
    '-pix_fmt',
    'yuv420p',
    '-c:a',
    'aac',
    CLIP,
  ]);
});

/** Frame times to 0.1 ms (ffprobe prints six decimals). */
const times = (path: string) => framePts(path).map((t) => Math.round(t * 1e4));
const expectedTimes = (n: number) =>
  Array.from({ length: n }, (_, i) => Math.round((i / 24) * 1e4));

/**
 * The render's settings in every test here, with the clip open: on the CPU at x2 with the
 * smallest x2 pack (these tests are about what happens to a render, not about the model; the
 * slim pack renders this clip in about half the default pack's time), ready to render.
 */
async function renderSettings(page: Page): Promise<void> {
  await page.getByTestId('backend-select').selectOption('wasm');
  await page.getByTestId('scale-select').selectOption('2');
  await page.getByTestId('model-select').selectOption('builtin:esrgan-slim-x2');
  await expect(page.getByTestId('render-button')).toBeEnabled({ timeout: 120_000 });
}

async function readyToRender(page: Page): Promise<void> {
  await page.getByTestId('file-input').setInputFiles(CLIP);
  await renderSettings(page);
}

/**
 * Lets the origin store only `bytes` more than it holds now, as a nearly full disk does (through
 * the DevTools protocol); returns what lifts the limit again.
 */
async function limitStorage(
  page: Page,
  baseURL: string,
  bytes: number,
): Promise<() => Promise<void>> {
  const { usage } = await page.evaluate(() => navigator.storage.estimate());
  const cdp = await page.context().newCDPSession(page);
  const origin = new URL(baseURL).origin;
  await cdp.send('Storage.overrideQuotaForOrigin', { origin, quotaSize: (usage ?? 0) + bytes });
  return async () => {
    await cdp.send('Storage.overrideQuotaForOrigin', { origin });
  };
}

/**
 * Renders the clip with only `bytes` of room left for the origin, until the render stops on
 * DISK_FULL; returns its error message and what lifts the limit.
 */
async function renderIntoFullDisk(page: Page, baseURL: string, bytes: number) {
  await readyToRender(page);
  const freeSpace = await limitStorage(page, baseURL, bytes);
  await page.getByTestId('render-button').click();
  const error = page.getByTestId('job-error');
  await expect(error).toBeVisible({ timeout: 300_000 });
  await expect(error).toHaveAttribute('data-code', 'DISK_FULL');
  return { error, freeSpace };
}

interface PrivateClip {
  e2eClipHandle: FileSystemFileHandle;
}

/**
 * Opens the page with the clip copied, as `name`, into the origin's private file system, whose
 * file handles a test can make (the open dialog and a drop give handles to files on disk): the
 * page's `window.e2eClipHandle`.
 */
async function clipInPrivateFiles(page: Page, name: string): Promise<void> {
  await page.route('**/e2e-clip.mp4', (route) => route.fulfill({ path: CLIP }));
  await page.goto('/');
  await page.evaluate(async (name) => {
    const bytes = await (await fetch('/e2e-clip.mp4')).arrayBuffer();
    const root = await navigator.storage.getDirectory();
    const dir = await root.getDirectoryHandle('e2e-clips', { create: true });
    const handle = await dir.getFileHandle(name, { create: true });
    const writable = await handle.createWritable();
    await writable.write(bytes);
    await writable.close();
    (window as unknown as PrivateClip).e2eClipHandle = handle;
  }, name);
}

async function download(page: Page, testId: string, path: string): Promise<void> {
  const [file] = await Promise.all([
    page.waitForEvent('download'),
    page.getByTestId(testId).click(),
  ]);
  await file.saveAs(path);
}

/** Frames [from, from + count) of `path` as a lossless file, at 24 fps from 0. */
function frames(path: string, from: number, count: number, out: string): string {
  ffmpeg([
    '-i',
    path,
    '-vf',
    `select='between(n\\,${from}\\,${from + count - 1})',setpts=N/(24*TB)`,
    '-an',
    '-c:v',
    'ffv1',
    out,
  ]);
  return out;
}

test('a render whose tab closed keeps its frames, which can be saved or continued', async ({
  page,
  context,
}) => {
  test.setTimeout(600_000);
  // renders end in a download (no save picker), in this page and the next
  await withoutSavePicker(context);
  await page.goto('/');
  await page.getByTestId('file-input').setInputFiles(CLIP);
  await expect(page.getByTestId('source-frames')).toContainText(`${FRAMES} at 24 fps`);
  await renderSettings(page);
  await page.getByTestId('render-button').click();
  const status = page.getByTestId('render-status');
  await expect
    .poll(async () => framesDone(await status.textContent()), { timeout: 300_000 })
    .toBeGreaterThan(110);
  expect(framesDone(await status.textContent())).toBeLessThan(FRAMES);
  // the file's size, from the part's first fragments: checked against the finished file below
  const sized = /file about ([\d.]+) KiB \(needs ([\d.]+) KiB more disk space\)/.exec(
    (await status.textContent()) ?? '',
  );
  expect(sized).not.toBeNull();
  const [estimate, stillNeeded] = [Number(sized![1]) * 1024, Number(sized![2]) * 1024];
  // the tab goes away mid-render, as a closed or crashed one does: nothing runs on its way out
  await page.close();

  const next = await context.newPage();
  await next.goto('/');
  const item = next.getByTestId('recovery-item');
  await expect(item).toBeVisible({ timeout: 60_000 });
  const kept = Number(await next.getByTestId('recovery-frames').textContent());
  // whole fragments only: a multiple of the keyframe interval, at least the two before 110
  expect(kept % 48).toBe(0);
  expect(kept).toBeGreaterThanOrEqual(96);
  expect(kept).toBeLessThan(FRAMES);
  await expect(item).toContainText(`${kept} of ${FRAMES} frames are kept`);
  // it continues with its own settings (the slim x2 pack on the CPU), whatever the page is set to now
  await expect(item).toContainText(
    'Open long take.mp4 again to continue it (with ESRGAN slim x2 (UpscalerJS), H.264, on the CPU).',
  );
  await expect(next.getByTestId('recovery-continue')).toBeDisabled();
  await screenshot(next, 'recovery-offered');

  // 1. save the frames as they are
  await next.getByTestId('recovery-save').click();
  const partial = join(DIR, 'partial.mp4');
  await download(next, 'recovery-download', partial);
  const p = videoFacts(partial);
  expect(p.frames).toBe(kept);
  expect([p.width, p.height]).toEqual([128, 72]);
  expect(p.hasAudio).toBe(true);
  expect(times(partial)).toEqual(expectedTimes(kept));

  // 2. open the clip again and continue: the render finishes with every frame
  await next.getByTestId('file-input').setInputFiles(CLIP);
  await expect(item).toContainText('The clip is open');
  await expect(next.getByTestId('recovery-continue')).toBeEnabled({ timeout: 120_000 });
  await next.getByTestId('recovery-continue').click();
  // while it runs, its note cannot be saved or discarded from under it
  await expect(next.getByTestId('recovery-discard')).toBeDisabled();
  await expect(next.getByTestId('recovery-save')).toBeDisabled();
  await expect(next.getByTestId('render-done')).toBeVisible({ timeout: 300_000 });
  await expect(next.getByTestId('render-done')).toContainText(`Done: ${FRAMES} frames`);
  await expect(next.getByTestId('recovery-item')).toHaveCount(0);
  await screenshot(next, 'recovery-continued');
  const full = join(DIR, 'continued.mp4');
  await download(next, 'download-link', full);
  const f = videoFacts(full);
  expect(f.frames).toBe(FRAMES);
  expect([f.width, f.height]).toEqual([128, 72]);
  expect(times(full)).toEqual(expectedTimes(FRAMES));
  // the size shown mid-render was within 25 % of the file's, and what it still needed on disk
  // was the rest of the part plus the whole file again
  const bytes = statSync(full).size;
  expect(Math.abs(estimate - bytes) / bytes).toBeLessThan(0.25);
  expect(stillNeeded).toBeGreaterThan(estimate);
  expect(stillNeeded).toBeLessThan(2 * estimate);
  // the source's audio, every packet once, as a render that never stopped copies it
  expect(audioMd5(full)).not.toBeNull();
  expect(audioMd5(full)).toBe(audioMd5(CLIP));
  // the frames before the stop are the saved ones, bit for bit
  expect(psnr(partial, frames(full, 0, kept, join(DIR, 'head.mkv')))).toBe(Infinity);
  // and the frames after it are the source's frames at the same times, not their neighbours
  const after = frames(full, kept, 24, join(DIR, 'after.mkv'));
  const x2 = { width: 128, height: 72, flags: 'bicubic' };
  const same = psnr(frames(CLIP, kept, 24, join(DIR, 'src-same.mkv')), after, x2);
  const early = psnr(frames(CLIP, kept - 1, 24, join(DIR, 'src-early.mkv')), after, x2);
  const late = psnr(frames(CLIP, kept + 1, 24, join(DIR, 'src-late.mkv')), after, x2);
  expect(same).toBeGreaterThan(22);
  expect(same, `${same} ${early} ${late}`).toBeGreaterThan(Math.max(early, late) + 1);

  // the two downloads live in this browser's private storage while their page is open, and the
  // first page to start after it closed removes them
  const made = await downloads(next);
  expect(made).toHaveLength(2);
  const other = await context.newPage();
  await other.goto('/');
  await expect(other.locator('main')).toHaveAttribute('data-recovery-checked', 'true');
  expect(await downloads(other)).toEqual(made);
  await next.close();
  await other.close();
  const later = await context.newPage();
  await later.goto('/');
  await expect(later.locator('main')).toHaveAttribute('data-recovery-checked', 'true');
  expect(await downloads(later)).toEqual([]);
});

test('a render another tab is writing is never offered as unfinished there', async ({
  page,
  context,
}) => {
  test.setTimeout(300_000);
  await withoutSavePicker(context);
  await page.goto('/');
  await readyToRender(page);
  await page.getByTestId('render-button').click();
  const status = page.getByTestId('render-status');
  // past the first fragment: the render's journal and part are on disk
  await expect
    .poll(async () => framesDone(await status.textContent()), { timeout: 240_000 })
    .toBeGreaterThan(60);
  const other = await context.newPage();
  await other.goto('/');
  await expect(other.locator('main')).toHaveAttribute('data-recovery-checked', 'true');
  await expect(other.getByTestId('recovery-item')).toHaveCount(0);
  // and the render goes on in its own tab
  const before = framesDone(await status.textContent());
  await expect
    .poll(async () => framesDone(await status.textContent()), { timeout: 60_000 })
    .toBeGreaterThan(before + 10);
  await page.getByTestId('cancel-button').click();
  await expect(page.getByTestId('render-canceled')).toBeVisible({ timeout: 60_000 });
  await other.reload();
  await expect(other.locator('main')).toHaveAttribute('data-recovery-checked', 'true');
  await expect(other.getByTestId('recovery-item')).toHaveCount(0);
});

test('a render of a clip opened with the open dialog continues after the tab closed, without the clip being opened again', async ({
  page,
  context,
}) => {
  test.setTimeout(600_000);
  await withoutSavePicker(context);
  // the open dialog gives a handle to the file
  await clipInPrivateFiles(page, 'long take.mp4');
  await page.evaluate(() => {
    const handle = (window as unknown as PrivateClip).e2eClipHandle;
    (window as unknown as { showOpenFilePicker: () => Promise<unknown[]> }).showOpenFilePicker =
      () => Promise.resolve([handle]);
  });
  await page.getByTestId('pick-button').click();
  await expect(page.getByTestId('source-frames')).toContainText(`${FRAMES} at 24 fps`);
  await renderSettings(page);
  await page.getByTestId('render-button').click();
  const status = page.getByTestId('render-status');
  await expect
    .poll(async () => framesDone(await status.textContent()), { timeout: 300_000 })
    .toBeGreaterThan(110);
  await page.close();

  const next = await context.newPage();
  await next.goto('/');
  const item = next.getByTestId('recovery-item');
  await expect(item).toContainText(
    'Continuing opens long take.mp4 again from where it was opened',
    { timeout: 60_000 },
  );
  await expect(next.getByTestId('source-name')).toHaveCount(0);
  await expect(next.getByTestId('recovery-continue')).toBeEnabled();
  await screenshot(next, 'recovery-reopens');
  await next.getByTestId('recovery-continue').click();
  await expect(next.getByTestId('source-name')).toHaveText('long take.mp4');
  await expect(next.getByTestId('render-done')).toBeVisible({ timeout: 300_000 });
  await expect(next.getByTestId('render-done')).toContainText(`Done: ${FRAMES} frames`);
  await expect(item).toHaveCount(0);
  const full = join(DIR, 'reopened.mp4');
  await download(next, 'download-link', full);
  expect(times(full)).toEqual(expectedTimes(FRAMES));
  expect(audioMd5(full)).toBe(audioMd5(CLIP));
});

test("a dropped clip's handle is kept with its render, so that a stopped render can continue without the clip", async ({
  page,
  context,
}) => {
  test.setTimeout(300_000);
  await withoutSavePicker(context);
  // Chromium gives a dropped file's handle (DataTransferItem.getAsFileSystemHandle); a test
  // cannot drag from the desktop, so the drop carries such a file and its handle
  await clipInPrivateFiles(page, 'dropped take.mp4');
  await page.evaluate(async () => {
    const handle = (window as unknown as PrivateClip).e2eClipHandle;
    const file = await handle.getFile();
    const dt = new DataTransfer();
    dt.items.add(file);
    const item = { kind: 'file', getAsFileSystemHandle: () => Promise.resolve(handle) };
    Object.defineProperty(dt, 'items', { value: [item] });
    const target = document.querySelector('main') ?? document.body;
    for (const type of ['dragenter', 'dragover', 'drop'])
      target.dispatchEvent(
        new DragEvent(type, { bubbles: true, cancelable: true, dataTransfer: dt }),
      );
  });
  await expect(page.getByTestId('source-name')).toHaveText('dropped take.mp4');
  await renderSettings(page);
  await page.getByTestId('render-button').click();
  const status = page.getByTestId('render-status');
  await expect
    .poll(async () => framesDone(await status.textContent()), { timeout: 120_000 })
    .toBeGreaterThan(0);
  // the handle is kept with the render, under the clip's name, size and date
  const remembered = await page.evaluate(async () => {
    const db = await new Promise<IDBDatabase>((resolve, reject) => {
      const req = indexedDB.open('upframe');
      req.onsuccess = () => resolve(req.result);
      req.onerror = () => reject(new Error(String(req.error)));
    });
    const all = await new Promise<{ key: string; handle: FileSystemFileHandle }[]>(
      (resolve, reject) => {
        const req = db.transaction('source-handles').objectStore('source-handles').getAll();
        req.onsuccess = () =>
          resolve(req.result as { key: string; handle: FileSystemFileHandle }[]);
        req.onerror = () => reject(new Error(String(req.error)));
      },
    );
    db.close();
    return Promise.all(
      all.map(async (e) => ({ key: e.key.split('\u0000'), size: (await e.handle.getFile()).size })),
    );
  });
  const size = statSync(CLIP).size;
  expect(remembered).toContainEqual({
    key: ['dropped take.mp4', String(size), expect.stringMatching(/^\d+$/)],
    size,
  });
  await page.getByTestId('cancel-button').click();
  await expect(page.getByTestId('render-canceled')).toBeVisible({ timeout: 60_000 });
});

test('a render that fills the disk keeps its frames; with space freed they are saved and continued', async ({
  page,
  context,
  baseURL,
}) => {
  test.setTimeout(600_000);
  await withoutSavePicker(context);
  await page.goto('/');
  // the origin may store about 71 KB more than it holds now (the model in Cache Storage): the
  // render's output (about 123 KB, two fragments in 61 KB) runs out of room part of the way
  const { error, freeSpace } = await renderIntoFullDisk(page, baseURL!, 71_000);
  const item = page.getByTestId('recovery-item');
  await expect(item).toBeVisible();
  const kept = Number(await page.getByTestId('recovery-frames').textContent());
  expect(kept % 48).toBe(0);
  expect(kept).toBeGreaterThanOrEqual(48);
  expect(kept).toBeLessThan(FRAMES);
  await expect(error).toContainText(
    `The disk is full: free some space and try again. The ${kept} frames done are kept`,
  );
  await expect(item).toContainText(`${kept} of ${FRAMES} frames are kept`);
  await screenshot(page, 'recovery-disk-full');

  // saving while the disk is still full fails in words and loses nothing
  await page.getByTestId('recovery-save').click();
  await expect(page.getByTestId('recovery-error')).toHaveAttribute('data-code', 'DISK_FULL');
  await expect(item).toContainText(`${kept} of ${FRAMES} frames are kept`);

  // space freed: the kept frames save, and the render continues to the end
  await freeSpace();
  await page.getByTestId('recovery-save').click();
  const partial = join(DIR, 'disk-full-partial.mp4');
  await download(page, 'recovery-download', partial);
  expect(videoFacts(partial).frames).toBe(kept);
  expect(times(partial)).toEqual(expectedTimes(kept));
  await expect(page.getByTestId('recovery-continue')).toBeEnabled();
  await page.getByTestId('recovery-continue').click();
  await expect(page.getByTestId('render-done')).toBeVisible({ timeout: 300_000 });
  await expect(page.getByTestId('render-done')).toContainText(`Done: ${FRAMES} frames`);
  await expect(item).toHaveCount(0);
  const full = join(DIR, 'disk-full-continued.mp4');
  await download(page, 'download-link', full);
  expect(times(full)).toEqual(expectedTimes(FRAMES));
  expect(audioMd5(full)).toBe(audioMd5(CLIP));
  expect(psnr(partial, frames(full, 0, kept, join(DIR, 'disk-full-head.mkv')))).toBe(Infinity);
});

test('a render whose file cannot be written for lack of space keeps every frame and finishes later', async ({
  page,
  context,
  baseURL,
}) => {
  test.setTimeout(600_000);
  await withoutSavePicker(context);
  await page.goto('/');
  // room for the render's part (about 123 KB) but not for the file joined from it next to it
  const { error, freeSpace } = await renderIntoFullDisk(page, baseURL!, 210_000);
  await expect(error).toContainText(`The ${FRAMES} frames done are kept`);
  const item = page.getByTestId('recovery-item');
  await expect(item).toContainText(`All ${FRAMES} frames were rendered`);
  await expect(item).toContainText(
    'but writing the file did not finish. The clip is open: the file can be written now',
  );
  await expect(page.getByTestId('recovery-continue')).toHaveText('Write the file');
  await screenshot(page, 'recovery-join-disk-full');

  // space freed: continuing renders nothing again, it writes the file
  await freeSpace();
  await page.getByTestId('recovery-continue').click();
  await expect(page.getByTestId('render-done')).toBeVisible({ timeout: 120_000 });
  await expect(page.getByTestId('render-done')).toContainText(`Done: ${FRAMES} frames`);
  await expect(item).toHaveCount(0);
  const full = join(DIR, 'join-disk-full.mp4');
  await download(page, 'download-link', full);
  const f = videoFacts(full);
  expect(f.frames).toBe(FRAMES);
  expect([f.width, f.height]).toEqual([128, 72]);
  expect(times(full)).toEqual(expectedTimes(FRAMES));
  expect(audioMd5(full)).toBe(audioMd5(CLIP));
});

/** Download files in the origin-private file system. */
function downloads(page: Page): Promise<string[]> {
  return page.evaluate(async () => {
    const root = await navigator.storage.getDirectory();
    const names: string[] = [];
    for await (const name of (root as unknown as { keys(): AsyncIterable<string> }).keys()) {
      if (name.startsWith('render-')) names.push(name);
    }
    return names.sort();
  });
}

test("a stopped render's subtitles are saved with its frames, cut at its last one, once its clip is open", async ({
  page,
  context,
}) => {
  test.setTimeout(600_000);
  const srt = join(DIR, 'lines.srt');
  const clip = join(DIR, 'long take, subtitled.mkv');
  const lines: [number, number, string][] = [
    [1, 2, 'One'],
    [3.9, 4.5, 'Two'],
    [5.9, 6.5, 'Three'],
    [7, 7.5, 'Four'],
  ];
  const stamp = (s: number) =>
    `00:00:0${Math.floor(s)},${String(Math.round((s % 1) * 1000)).padStart(3, '0')}`;
  writeFileSync(
    srt,
    lines.map(([a, b, t], i) => `${i + 1}\n${stamp(a)} --> ${stamp(b)}\n${t}\n`).join('\n'),
  );
  ffmpeg(['-i', CLIP, '-i', srt, '-map', '0', '-map', '1', '-c', 'copy', '-c:s', 'srt', clip]);
  await withoutSavePicker(context);
  await page.goto('/');
  await page.getByTestId('file-input').setInputFiles(clip);
  await expect(page.getByTestId('source-subtitles')).toContainText(
    'a track: no language given (kept',
  );
  await renderSettings(page);
  await page.getByTestId('render-button').click();
  const status = page.getByTestId('render-status');
  await expect
    .poll(async () => framesDone(await status.textContent()), { timeout: 300_000 })
    .toBeGreaterThan(110);
  await page.close();

  const next = await context.newPage();
  await next.goto('/');
  await expect(next.getByTestId('recovery-item')).toBeVisible({ timeout: 60_000 });
  const kept = Number(await next.getByTestId('recovery-frames').textContent());
  expect(kept % 48).toBe(0);
  // without the clip (opened from a file input, so no handle was kept) the lines cannot be read
  await next.getByTestId('recovery-save').click();
  const bare = join(DIR, 'partial without lines.mkv');
  await download(next, 'recovery-download', bare);
  expect(videoFacts(bare).frames).toBe(kept);
  expect(streamTypes(bare)).toEqual(['video', 'audio']);
  await expect(next.getByTestId('recovery-note')).toHaveText(
    "The clip's subtitle track was left out: they are read from the clip, which the page did " +
      'not have open. Open the clip, then save again to keep them.',
  );
  // with it open, they are saved: the lines that begin before the last kept frame ends, cut there
  await next.getByTestId('file-input').setInputFiles(clip);
  await expect(next.getByTestId('recovery-item')).toContainText('The clip is open');
  await next.getByTestId('recovery-save').click();
  // the first save's link and note go while the second is made
  await expect(next.getByTestId('recovery-note')).toHaveCount(0);
  const saved = join(DIR, 'partial with lines.mkv');
  await download(next, 'recovery-download', saved);
  expect(videoFacts(saved).frames).toBe(kept);
  expect(streamTypes(saved)).toEqual(['video', 'audio', 'subtitle']);
  // (ffmpeg reads this MKV's video from 21 ms, after the AAC priming, and its lines that much
  // later too: the render keeps the clip's clock)
  const at = (s: number) => stamp(s + videoStart(clip));
  const end = kept / 24;
  const wanted = lines
    .filter(([a]) => a < end)
    .map(([a, b, t], i) => `${i + 1}\n${at(a)} --> ${at(Math.min(b, end))}\n${t}\n`);
  expect(srtOf(saved, 0)).toBe(wanted.join('\n') + '\n');
  await expect(next.getByTestId('recovery-note')).toHaveCount(0);
});

/** When a file's video starts (s), as ffprobe reads it. */
function videoStart(path: string): number {
  const args = ['-v', 'error', '-select_streams', 'v:0', '-show_entries', 'stream=start_time'];
  return Number(execFileSync('ffprobe', [...args, '-of', 'csv=p=0', path], { encoding: 'utf8' }));
}

/** The kinds of a file's streams in order, as ffprobe lists them. */
function streamTypes(path: string): string[] {
  return execFileSync(
    'ffprobe',
    ['-v', 'error', '-show_entries', 'stream=codec_type', '-of', 'csv=p=0', path],
    { encoding: 'utf8' },
  )
    .trim()
    .split('\n');
}
