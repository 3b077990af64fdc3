/**
 * Pause, resume and cancel of a render, as a person uses them: a paused render makes no
 * progress, a resumed one finishes, and a canceled one leaves nothing to save.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Page } from '@playwright/test';
import { expect, framesDone, screenshot, test, withoutSavePicker } from './guard.ts';
import { ffmpeg } from './media-tools.ts';

const DIR = resolve('test-results', 'ui-control');
const CLIP = join(DIR, 'longer clip.mp4');
const CUT = join(DIR, 'cut short.mp4');

test.beforeAll(() => {
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
 * CPU backend, x2 and the smallest x2 pack keep renders fast on a CPU-only test machine (these
 * tests are about controlling a render, not about the model).
 */
async function cpuAt2x(page: Page): Promise<void> {
  await page.getByTestId('backend-select').selectOption('wasm');
  await page.getByTestId('scale-select').selectOption('2');
  await page.getByTestId('model-select').selectOption('builtin:esrgan-slim-x2');
}

async function ready(page: Page): Promise<void> {
  await openWith(page, CLIP);
  await expect(page.getByTestId('source-frames')).toContainText('72 at 24 fps');
  await cpuAt2x(page);
}

test('a paused render makes no progress and finishes after resume', async ({ page }) => {
  test.setTimeout(300_000);
  await ready(page);
  await page.getByTestId('render-button').click();
  const status = page.getByTestId('render-status');
  await expect
    .poll(async () => framesDone(await status.textContent()), { timeout: 120_000 })
    .toBeGreaterThan(2);
  await page.getByTestId('pause-button').click();
  await expect(status).toContainText('paused');
  // frames already in the pipeline may still land; after that the count must stand still
  await page.waitForTimeout(1500);
  const held = framesDone(await status.textContent());
  await page.waitForTimeout(2500);
  expect(framesDone(await status.textContent())).toBe(held);
  expect(held).toBeLessThan(72);
  await screenshot(page, 'control-paused');
  await page.getByTestId('resume-button').click();
  await expect(page.getByTestId('render-done')).toBeVisible({ timeout: 240_000 });
  await expect(status).toContainText('72 / 72 frames (100%)');
});

test('a canceled render says so and offers nothing to save', async ({ page }) => {
  test.setTimeout(300_000);
  await ready(page);
  await page.getByTestId('render-button').click();
  const status = page.getByTestId('render-status');
  await expect
    .poll(async () => framesDone(await status.textContent()), { timeout: 120_000 })
    .toBeGreaterThan(1);
  await page.getByTestId('cancel-button').click();
  await expect(page.getByTestId('render-canceled')).toBeVisible({ timeout: 60_000 });
  await expect(page.getByTestId('download-link')).toHaveCount(0);
  await expect(page.getByTestId('job-error')).toHaveCount(0);
  // the page is ready for another go
  await expect(page.getByTestId('render-button')).toBeEnabled();
  await screenshot(page, 'control-canceled');
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
