/**
 * Pause, resume and cancel of a render, as a person uses them: a paused render makes no
 * progress, a resumed one finishes, and a canceled one leaves nothing to save.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Page } from '@playwright/test';
import { expect, framesDone, screenshot, test, withoutSavePicker } from './guard.ts';
import { ensureMediaFixtures, fixturePath } from '../test/media-fixtures.ts';
import { ffmpeg, srtOf, videoFacts } from './media-tools.ts';

const DIR = resolve('test-results', 'ui-control');
const CLIP = join(DIR, 'longer clip.mp4');
const CUT = join(DIR, 'cut short.mp4');

test.beforeAll(() => {
  ensureMediaFixtures();
  mkdirSync(DIR, { recursive: true });
  ffmpeg([
    '-f',
    'lavfi',
    '-i',
    'testsrc2=size=64x36:rate=24',
    '-t',
    '3',
    '-c:v',
    'libx264',
    '-pix_fmt',
    'yuv420p',
    CLIP,
  ]);
  // an interrupted download: index first, media data cut at 60 %
  const full = join(DIR, 'cut source.mp4');
  ffmpeg([
    '-f',
    'lavfi',
    '-i',
    'testsrc2=size=160x96:rate=24',
    '-t',
    '2',
    '-c:v',
    'libx264',
    '-pix_fmt',
    'yuv420p',
    '-movflags',
    '+faststart',
    full,
  ]);
  const bytes = readFileSync(full);
  writeFileSync(CUT, bytes.subarray(0, Math.floor(bytes.length * 0.6)));
});

/** Opens the page (renders end in a download: no save picker) with `clip` picked. */
async function openWith(page: Page, clip: string): Promise<void> {
  await withoutSavePicker(page);
  await page.goto('/');
  await page.getByTestId('file-input').setInputFiles(clip);
}

/**
 * The save dialog as Chromium answers it, in the origin's private file system (automation cannot
 * answer the real one): the picked file is made, empty, the moment it is picked.
 */
async function withSavePicker(page: Page): Promise<void> {
  await page.addInitScript(() => {
    (
      window as unknown as {
        showSaveFilePicker: (o: { suggestedName: string }) => Promise<FileSystemFileHandle>;
      }
    ).showSaveFilePicker = async ({ suggestedName }) => {
      const root = await navigator.storage.getDirectory();
      const dir = await root.getDirectoryHandle('e2e-picked', { create: true });
      return dir.getFileHandle(suggestedName, { create: true });
    };
  });
}

/** The files the save dialog stand-in has made, with their sizes. */
async function pickedFiles(page: Page): Promise<{ name: string; size: number }[]> {
  return page.evaluate(async () => {
    const root = await navigator.storage.getDirectory();
    const dir = await root.getDirectoryHandle('e2e-picked', { create: true });
    const out: { name: string; size: number }[] = [];
    for await (const [name, handle] of (
      dir as unknown as { entries(): AsyncIterable<[string, FileSystemFileHandle]> }
    ).entries()) {
      out.push({ name, size: (await handle.getFile()).size });
    }
    return out;
  });
}

/**
 * CPU backend, x2 and the smallest x2 pack keep renders fast on a CPU-only test machine (these
 * tests are about controlling a render, not about the model).
 */
async function cpuAt2x(page: Page): Promise<void> {
  await page.getByTestId('backend-select').selectOption('wasm');
  await page.getByTestId('scale-select').selectOption('2');
  await page.getByTestId('model-select').selectOption('builtin:esrgan-slim-x2');
}

/** The clip open, with renders going into a picked file, on the CPU at 2x. */
async function ready(page: Page): Promise<void> {
  await withSavePicker(page);
  await page.goto('/');
  await page.getByTestId('file-input').setInputFiles(CLIP);
  await expect(page.getByTestId('source-frames')).toContainText('72 at 24 fps');
  await cpuAt2x(page);
}

test('a paused render makes no progress and finishes after resume, into the picked file; by keyboard alone, focus follows the controls and each step is announced', async ({
  page,
}) => {
  test.setTimeout(300_000);
  await ready(page);
  const announced = page.getByTestId('render-announce');
  // Render by keyboard: the button disables itself, focus goes to Pause (not to the page)
  await expect(page.getByTestId('render-button')).toBeEnabled({ timeout: 60_000 });
  await page.getByTestId('render-button').focus();
  await page.keyboard.press('Enter');
  await expect(page.getByTestId('pause-button')).toBeFocused();
  await expect(announced).toHaveText(/^Rendering/);
  const status = page.getByTestId('render-status');
  await expect
    .poll(async () => framesDone(await status.textContent()), { timeout: 120_000 })
    .toBeGreaterThan(2);
  await page.keyboard.press('Enter'); // Pause
  await expect(status).toContainText('paused');
  await expect(page.getByTestId('resume-button')).toBeFocused();
  await expect(announced).toHaveText(/^Paused at \d+%\.$/);
  // frames already in the pipeline may still land; after that the count must stand still
  await page.waitForTimeout(1500);
  const held = framesDone(await status.textContent());
  await page.waitForTimeout(2500);
  expect(framesDone(await status.textContent())).toBe(held);
  expect(held).toBeLessThan(72);
  await screenshot(page, 'control-paused');
  await page.keyboard.press('Enter'); // Resume
  await expect(page.getByTestId('render-done')).toBeVisible({ timeout: 240_000 });
  await expect(status).toContainText('72 / 72 frames (100%)');
  await expect(page.getByTestId('saved-name')).toHaveText('Saved as longer clip.upframe-x2.mp4.');
  // the end: focus on what was made, and said
  await expect(page.getByTestId('render-done')).toBeFocused();
  await expect(announced).toHaveText('Done: 72 frames. Saved as longer clip.upframe-x2.mp4.');
  const [picked] = await pickedFiles(page);
  expect(picked?.name).toBe('longer clip.upframe-x2.mp4');
  expect(picked?.size).toBeGreaterThan(1000);
});

test('frame numbers take typing; a canceled render into a picked file leaves no empty file, and its settings were locked', async ({
  page,
}) => {
  test.setTimeout(300_000);
  await ready(page);

  // typed as people type: the box may be empty on the way, and "2" on the way to "20"
  const to = page.getByTestId('frame-to');
  await expect(to).toHaveValue('72');
  await to.click();
  await to.press('End');
  await to.press('Backspace');
  await to.press('Backspace');
  await expect(to).toHaveValue('');
  await to.pressSequentially('20');
  await expect(to).toHaveValue('20');
  const from = page.getByTestId('frame-from');
  await from.click();
  await from.press('End');
  await from.press('Backspace');
  await from.pressSequentially('40');
  await from.press('Tab');
  await expect(from).toHaveValue('40');
  // From after To: said in words, and Render waits for a range that exists
  await expect(page.getByTestId('range-note')).toHaveText(
    'From (frame 40) is after To (frame 20): choose a From at or before To.',
  );
  await expect(page.getByTestId('render-button')).toBeDisabled();
  await screenshot(page, 'control-range-backwards');
  await from.fill('3');
  await expect(page.getByTestId('range-note')).toHaveCount(0);

  await page.getByTestId('render-button').click();
  const status = page.getByTestId('render-status');
  await expect(status).toContainText('/ 18 frames');
  // a render keeps the settings it started with
  await expect(page.getByTestId('scale-select')).toBeDisabled();
  await expect(page.getByTestId('frame-from')).toBeDisabled();
  await expect(page.getByTestId('settings-locked')).toBeVisible();
  await expect
    .poll(async () => framesDone(await status.textContent()), { timeout: 120_000 })
    .toBeGreaterThan(1);
  await page.getByTestId('cancel-button').focus();
  await page.keyboard.press('Enter');
  await expect(page.getByTestId('render-canceled')).toBeVisible({ timeout: 60_000 });
  // by keyboard: focus back on Render, and the outcome said
  await expect(page.getByTestId('render-button')).toBeFocused();
  await expect(page.getByTestId('render-announce')).toHaveText('Canceled: nothing was saved.');
  await expect(page.getByTestId('download-link')).toHaveCount(0);
  await expect(page.getByTestId('job-error')).toHaveCount(0);
  // the browser made the picked file when it was picked; "nothing was saved" leaves none behind
  expect(await pickedFiles(page)).toEqual([]);
  // the page is ready for another go
  await expect(page.getByTestId('render-button')).toBeEnabled();
  await expect(page.getByTestId('scale-select')).toBeEnabled();
  await screenshot(page, 'control-canceled');
});

test('another clip waits for the render in progress; an unsaved download stays offered after it opens; long names wrap on a phone', async ({
  page,
}) => {
  test.setTimeout(300_000);
  await openWith(page, CLIP);
  await expect(page.getByTestId('source-frames')).toContainText('72 at 24 fps');
  await cpuAt2x(page);
  await page.getByTestId('frame-to').fill('24');
  await expect(page.getByTestId('render-button')).toBeEnabled({ timeout: 60_000 });
  await page.getByTestId('render-button').click();
  const status = page.getByTestId('render-status');
  await expect
    .poll(async () => framesDone(await status.textContent()), { timeout: 120_000 })
    .toBeGreaterThan(0);
  // a clip picked (or dropped) now is not opened: the render, its clip and its controls stay
  await page.getByTestId('file-input').setInputFiles(CUT);
  const refused = page.getByTestId('source-refused');
  await expect(refused).toHaveAttribute('data-code', 'BUSY');
  await expect(refused).toContainText(
    '"cut short.mp4" was not opened: the render of "longer clip.mp4" is in progress.',
  );
  await expect(page.getByTestId('source-name')).toHaveText('longer clip.mp4');
  await expect(page.getByTestId('cancel-button')).toBeVisible();
  // a file dragged over the page and out again leaves no overlay behind (moving from one
  // element to another inside the page keeps it)
  const overlay = page.locator('.drop-overlay');
  await page.evaluate(() => {
    const dt = new DataTransfer();
    dt.items.add(new File(['x'], 'clip.mp4', { type: 'video/mp4' }));
    const fire = (type: string, testId: string) =>
      document
        .querySelector(`[data-testid="${testId}"]`)!
        .dispatchEvent(new DragEvent(type, { bubbles: true, cancelable: true, dataTransfer: dt }));
    fire('dragenter', 'source-facts');
    fire('dragover', 'source-facts');
    fire('dragenter', 'settings-fields');
    fire('dragleave', 'source-facts');
    fire('dragover', 'settings-fields');
  });
  await expect(overlay).toBeVisible();
  await page.evaluate(() => {
    document
      .querySelector('[data-testid="settings-fields"]')!
      .dispatchEvent(new DragEvent('dragleave', { bubbles: true }));
  });
  await expect(overlay).toHaveCount(0);
  await expect(page.getByTestId('render-done')).toBeVisible({ timeout: 240_000 });
  await expect(refused).toHaveCount(0);

  // the finished file is not downloaded yet when the next clip opens: its link stays
  await page.getByTestId('file-input').setInputFiles(CUT);
  await expect(page.getByTestId('source-name')).toHaveText('cut short.mp4');
  const earlier = page.getByTestId('earlier-downloads').getByRole('link');
  await expect(earlier).toHaveText('Download longer clip.upframe-x2.mp4');
  const [download] = await Promise.all([page.waitForEvent('download'), earlier.click()]);
  const saved = join(DIR, 'earlier.mp4');
  await download.saveAs(saved);
  const facts = videoFacts(saved);
  expect([facts.frames, facts.width, facts.height]).toEqual([24, 128, 72]);

  // a phone: a file name without spaces, in an error, wraps instead of widening the page
  await page.setViewportSize({ width: 375, height: 800 });
  const long = join(DIR, `VID_20240101_123456789_${'without_spaces_'.repeat(4)}clip.mp4`);
  writeFileSync(long, '');
  await page.getByTestId('file-input').setInputFiles(long);
  await expect(page.getByTestId('source-error')).toHaveAttribute('data-code', 'EMPTY_FILE');
  expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(375);
  await screenshot(page, 'control-phone-long-name');
});

test('a model pack from an address (typed relative to the page) sets the scale it makes, and the file is named by it', async ({
  page,
}) => {
  test.setTimeout(300_000);
  await openWith(page, CLIP);
  await expect(page.getByTestId('source-frames')).toContainText('72 at 24 fps');
  await cpuAt2x(page);
  await page.getByTestId('model-select').selectOption('url');
  const address = page.getByTestId('model-url');
  await page.getByTestId('frame-to').fill('3');
  // Render pressed straight after typing: the render waits for the pack's manifest
  await address.fill('packs/esrgan-slim-x4/');
  await page.getByTestId('render-button').click();
  // the pack upscales by 4: the scale follows it
  await expect(page.getByTestId('scale-select')).toHaveValue('4');
  await expect(page.getByTestId('render-done')).toBeVisible({ timeout: 240_000 });
  await expect(page.getByTestId('render-done')).toContainText('Done: 3 frames at 256×144');
  const link = page.getByTestId('download-link');
  await expect(link).toHaveText('Download longer clip.upframe-x4.mp4');
  // kept for the next visit: the box shows the address the render used
  await page.reload();
  await expect(page.getByTestId('model-url')).toHaveValue('packs/esrgan-slim-x4/');
  // with its scale: 2x is not what it makes, so the pack gives way, as a built-in x4 pack does
  await page.getByTestId('file-input').setInputFiles(CLIP);
  await page.getByTestId('scale-select').selectOption('2');
  await expect(page.getByTestId('model-url')).toHaveCount(0);
  // and coming back to it offers the address again
  await page.getByTestId('model-select').selectOption('url');
  await expect(page.getByTestId('model-url')).toHaveValue('packs/esrgan-slim-x4/');
  await expect(page.getByTestId('scale-select')).toHaveValue('4');
  // an empty address says so, not "manifest.json of some script could not be read"
  await page.getByTestId('model-url').fill('');
  await page.getByTestId('preview-button').click();
  await expect(page.getByTestId('job-error')).toContainText('No model pack address was given');
});

test('a file cut short renders up to the cut, and the finished render says so', async ({
  page,
}) => {
  test.setTimeout(300_000);
  await openWith(page, CUT);
  const note = page.locator('.warning', { hasText: 'This file is cut short' }).first();
  await expect(note).toBeVisible();
  const held = Number(/holds (\d+) of its 48 frames/.exec((await note.textContent()) ?? '')?.[1]);
  expect(held).toBeGreaterThan(10);
  expect(held).toBeLessThan(48);
  await cpuAt2x(page);
  await page.getByTestId('render-button').click();
  await expect(page.getByTestId('render-done')).toBeVisible({ timeout: 240_000 });
  await expect(page.getByTestId('render-done')).toContainText(`Done: ${held} frames`);
  await expect(page.getByTestId('render-warning').first()).toContainText('This file is cut short');
  await expect(page.getByTestId('download-link')).toHaveCount(1);
  await screenshot(page, 'cut-short-done');
});

test('a VP9 render is a WebM file named .webm, or an MP4 named .mp4 where WebM cannot hold the audio', async ({
  page,
}) => {
  test.setTimeout(300_000);
  await withoutSavePicker(page);
  await page.goto('/');
  const cases = [
    { clip: 'vp9-opus.webm', label: 'VP9 (WebM)', ext: 'webm', format: 'matroska,webm' },
    { clip: 'h264-aac.mp4', label: 'VP9 (MP4)', ext: 'mp4', format: 'mov,mp4,m4a,3gp,3g2,mj2' },
  ] as const;
  for (const c of cases) {
    await page.getByTestId('file-input').setInputFiles(fixturePath(c.clip));
    await expect(page.getByTestId('source-frames')).toContainText(/^48 at 24/);
    await cpuAt2x(page);
    await page.getByTestId('codec-select').selectOption('vp9');
    await expect(page.getByTestId('codec-select').locator('option:checked')).toHaveText(c.label);
    if (c.ext === 'mp4') {
      await expect(page.getByTestId('codec-note')).toHaveText(
        "Saved as MP4: WebM cannot hold this clip's AAC audio.",
      );
      await screenshot(page, 'control-vp9-in-mp4');
    } else await expect(page.getByTestId('codec-note')).toHaveCount(0);
    await page.getByTestId('frame-to').fill('3');
    await page.getByTestId('render-button').click();
    await expect(page.getByTestId('render-done')).toBeVisible({ timeout: 240_000 });
    const download = page.waitForEvent('download');
    await page.getByTestId('download-link').click();
    const name = (await download).suggestedFilename();
    expect(name).toBe(`${c.clip.replace(/\.\w+$/, '')}.upframe-x2.${c.ext}`);
    const saved = join(DIR, name);
    await (await download).saveAs(saved);
    // the file is what its name says, and holds the VP9 video and the clip's audio
    const format = execFileSync('ffprobe', [
      ...['-v', 'error', '-show_entries', 'format=format_name', '-of', 'default=nw=1:nk=1', saved],
    ]);
    expect(format.toString().trim()).toBe(c.format);
    const facts = videoFacts(saved);
    expect([facts.codec, facts.frames, facts.width, facts.hasAudio]).toEqual(['vp9', 3, 640, true]);
  }
});

test("a film's text subtitles are kept as SRT in an MKV, cut to the frame range and moved to its start", async ({
  page,
}) => {
  test.setTimeout(300_000);
  await openWith(page, fixturePath('subtitled.mkv'));
  await expect(page.getByTestId('source-subtitles')).toHaveText(
    '2 tracks: English, Français (French) (kept, as SRT in MKV)',
  );
  await cpuAt2x(page);
  await expect(page.getByTestId('codec-note')).toHaveText(
    "Saved as MKV, which keeps this clip's 2 subtitle tracks.",
  );
  // left out, for an MP4 that Apple's players play; then kept again
  const keep = page.getByTestId('keep-subtitles');
  await keep.uncheck();
  await expect(page.getByTestId('codec-select').locator('option:checked')).toHaveText(
    'H.264 (MP4)',
  );
  await expect(page.getByTestId('codec-note')).toHaveText(
    "Saved as MP4: this clip's 2 subtitle tracks are left out.",
  );
  await expect(page.getByTestId('source-subtitles')).toContainText(
    '(left out, as the settings say)',
  );
  await screenshot(page, 'subtitles-left-out');
  await keep.check();
  await expect(page.getByTestId('codec-select').locator('option:checked')).toHaveText(
    'H.264 (MKV)',
  );
  // frames 13 to 36: 0.521 s to 1.521 s of the clip
  await page.getByTestId('frame-from').fill('13');
  await page.getByTestId('frame-to').fill('36');
  await page.getByTestId('render-button').click();
  await expect(page.getByTestId('render-done')).toBeVisible({ timeout: 240_000 });
  await expect(page.getByTestId('render-done')).toContainText('Done: 24 frames at 128×72');
  await expect(page.getByTestId('render-done')).toContainText('audio and 2 subtitle tracks kept');
  await expect(page.getByTestId('render-warning')).toHaveText([
    'The styled (ASS) subtitles keep their words, line breaks and side of the screen, not their fonts, colours or exact position.',
  ]);
  await screenshot(page, 'subtitles-kept');
  const download = page.waitForEvent('download');
  await page.getByTestId('download-link').click();
  const saved = join(DIR, (await download).suggestedFilename());
  expect(saved).toMatch(/subtitled\.upframe-x2\.mkv$/);
  await (await download).saveAs(saved);
  const srt = (k: number): string => srtOf(saved, k);
  expect(srt(0)).toBe(
    '1\n00:00:00,000 --> 00:00:00,400\nHello <i>there</i>\n\n' +
      '2\n00:00:00,500 --> 00:00:01,000\nSecond & line\nwith two rows\n\n',
  );
  expect(srt(1)).toBe('1\n00:00:00,000 --> 00:00:01,000\nBonjour\nle monde\n\n');
  const streams = execFileSync('ffprobe', [
    ...['-v', 'error', '-show_entries', 'stream=codec_name:stream_tags=language,title'],
    ...['-of', 'compact=p=0:nk=1', saved],
  ]);
  expect(streams.toString().trim().split('\n')).toEqual([
    'h264',
    'aac',
    'subrip|eng',
    'subrip|fra|Français',
  ]);
});

test('a clip damaged part-way shows a frame before the damage first, and the range ends there', async ({
  page,
}) => {
  test.setTimeout(300_000);
  await withoutSavePicker(page);
  await page.goto('/');
  // the first look, a tenth of the way in, at least 1 s (frame 25) falls past the damage: the
  // page looks before it instead, and says why the frames end early
  await cpuAt2x(page);
  await page.getByTestId('file-input').setInputFiles(fixturePath('corrupt-mid.mp4'));
  const note = page.getByTestId('damage-note');
  await expect(note).toBeVisible({ timeout: 60_000 });
  const m = /frames from (\d+) on cannot be decoded, so To is set to (\d+)/.exec(
    (await note.textContent()) ?? '',
  );
  expect(m).not.toBeNull();
  const last = Number(m![2]);
  expect(Number(m![1])).toBe(last + 1);
  expect(last).toBeGreaterThan(5);
  expect(last).toBeLessThan(25);
  await expect(page.getByTestId('frame-to')).toHaveValue(String(last));
  const preview = Number(await page.getByTestId('preview-frame').inputValue());
  expect(preview).toBeLessThanOrEqual(last);
  await expect(page.getByTestId('frame-position')).toHaveText(`Frame ${preview}`, {
    timeout: 60_000,
  });
  await expect(page.getByTestId('job-error')).toHaveCount(0);
  await screenshot(page, 'control-damaged-first-look');
  // a render up to that frame is whole: no frame missing, no warning (its last 3 frames, quickly)
  await page.getByTestId('frame-from').fill(String(last - 2));
  await page.getByTestId('render-button').click();
  await expect(page.getByTestId('render-done')).toBeVisible({ timeout: 240_000 });
  await expect(page.getByTestId('render-done')).toContainText('Done: 3 frames');
  await expect(page.getByTestId('render-warning')).toHaveCount(0);
});
