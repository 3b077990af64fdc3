/**
 * A GPU reset in the middle of a WebGPU render (what a driver crash does): the render stops with
 * a sentence saying what happened and what to do, nothing half-written is offered, and pressing
 * Render again finishes on a fresh worker with a fresh device, progress and all.
 */
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { expect, framesDone, screenshot, test, withoutSavePicker } from './guard.ts';
import { ffmpeg } from './media-tools.ts';

const DIR = resolve('test-results', 'device-lost');
const CLIP = join(DIR, 'small clip.mp4');

test.beforeAll(() => {
  mkdirSync(DIR, { recursive: true });
  ffmpeg([
    '-f',
    'lavfi',
    '-i',
    'testsrc2=size=48x32:rate=24',
    '-t',
    '1',
    '-c:v',
    'libx264',
    '-pix_fmt',
    'yuv420p',
    CLIP,
  ]);
});

test('a GPU reset stops the render with a sentence, and Render again finishes', async ({
  page,
}) => {
  test.setTimeout(600_000);
  await withoutSavePicker(page);
  await page.goto('/');
  await page.getByTestId('file-input').setInputFiles(CLIP);
  await expect(page.getByTestId('source-frames')).toContainText('24 at 24 fps');
  await page.getByTestId('scale-select').selectOption('2');
  // the page's own model (ONNX on WebGPU and the WGSL CFR kernels): its GPU start-up is the
  // quickest of the packs on SwiftShader, and it is what a person meets first
  await page.getByTestId('model-select').selectOption('builtin:upframe-lite-x2');
  await page.getByTestId('backend-select').selectOption('webgpu');
  await page.getByTestId('frame-to').fill('4');

  await page.getByTestId('render-button').click();
  const status = page.getByTestId('render-status');
  await expect
    .poll(async () => framesDone(await status.textContent()), { timeout: 300_000 })
    .toBeGreaterThan(0);
  const lost = await page.evaluate(() =>
    (window as unknown as { upframeLoseGpu: () => Promise<boolean> }).upframeLoseGpu(),
  );
  expect(lost).toBe(true);

  const error = page.getByTestId('job-error');
  await expect(error).toBeVisible({ timeout: 120_000 });
  // the message says which error it was when this fails
  await expect(error, (await error.textContent()) ?? '').toHaveAttribute(
    'data-code',
    'DEVICE_LOST',
  );
  await expect(error).toContainText('Press Render again');
  await expect(page.getByTestId('download-link')).toHaveCount(0);
  await screenshot(page, 'device-lost');

  await page.getByTestId('render-button').click();
  // the fresh worker's previews reach the page (its events are wired like the first worker's)
  await expect(page.getByTestId('frame-position')).toHaveText(/Frame [234]/, { timeout: 400_000 });
  await expect(page.getByTestId('render-done')).toBeVisible({ timeout: 400_000 });
  await expect(status).toContainText('4 / 4 frames (100%)');
  await expect(page.getByTestId('job-error')).toHaveCount(0);
  await expect(page.getByTestId('download-link')).toHaveCount(1);
});
