/**
 * What a person does in the page: drop a clip, read its summary, preview a frame, compare with the
 * divider and zoom, render the whole clip and save it, and meet a clear error for a broken file.
 */
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Locator, Page } from '@playwright/test';
import { expect, screenshot, test, withoutSavePicker } from './guard.ts';
import { ensureMediaFixtures, fixturePath } from '../test/media-fixtures.ts';
import { ffmpeg, videoFacts } from './media-tools.ts';

const DIR = resolve('test-results', 'ui');
const CLIP = join(DIR, 'tiny clip.mp4');
const BARS = join(DIR, 'colour bars 640x360.mp4');
const BLUE = join(DIR, 'blue 64x36.mp4');
const WIDE_PIXELS = join(DIR, 'blue 64x36, pixels 2 to 1.mp4');
const UPRIGHT = join(DIR, 'red and blue 64x36, turned.mp4');
const LARGE = join(DIR, 'bars 1040x586.mp4');
const INTERLACED = join(DIR, 'bars 64x36, interlaced.mp4');
const INTERLACED_BFF = join(DIR, 'bars 64x36, interlaced bottom field first.mp4');

test.beforeAll(() => {
  ensureMediaFixtures();
  mkdirSync(DIR, { recursive: true });
  // 64x36, 12 frames with sharp edges (so an upscaler and a smooth scaler differ) and AAC audio
  ffmpeg([
    '-f',
    'lavfi',
    '-i',
    'testsrc2=size=64x36:rate=12',
    '-f',
    'lavfi',
    '-i',
    'sine=frequency=440:sample_rate=48000',
    '-t',
    '1',
    '-c:v',
    'libx264',
    '-pix_fmt',
    'yuv420p',
    '-c:a',
    'aac',
    '-shortest',
    CLIP,
  ]);
  const still = (source: string, out: string) =>
    ffmpeg(['-f', 'lavfi', '-i', source, '-t', '1', '-c:v', 'libx264', '-pix_fmt', 'yuv420p', out]);
  still('testsrc2=size=640x360:rate=12', BARS);
  still('color=c=blue:size=64x36:rate=12', BLUE);
  // 4x would be 4160x2344: 38 220 macroblocks, past H.264 level 5.2 (36 864), where Chromium's
  // encoder stops; 2x fits
  still('testsrc2=size=1040x586:rate=12', LARGE);
  // field-coded H.264, as a 1080i camcorder writes it (two 24p pictures woven into each frame)
  ffmpeg([
    ...['-f', 'lavfi', '-i', 'testsrc2=size=64x36:rate=24', '-t', '1'],
    ...['-vf', 'tinterlace=interleave_top,setfield=tff', '-flags', '+ilme+ildct'],
    ...['-c:v', 'libx264', '-x264opts', 'tff=1', '-pix_fmt', 'yuv420p', INTERLACED],
  ]);
  // the same woven bottom field first, as DV-era SD video is
  ffmpeg([
    ...['-f', 'lavfi', '-i', 'testsrc2=size=64x36:rate=24', '-t', '1'],
    ...['-vf', 'tinterlace=interleave_bottom,setfield=bff', '-flags', '+ilme+ildct'],
    ...['-c:v', 'libx264', '-x264opts', 'bff=1', '-pix_fmt', 'yuv420p', INTERLACED_BFF],
  ]);
  ffmpeg([
    ...['-f', 'lavfi', '-i', 'color=c=blue:size=64x36:rate=12', '-t', '1', '-vf', 'setsar=2/1'],
    ...['-c:v', 'libx264', '-pix_fmt', 'yuv420p', WIDE_PIXELS],
  ]);
  // as a phone filming upright stores it: landscape frames (left half red, right half blue) and
  // a quarter turn for players (ffmpeg 5.1 writes the tkhd matrix from the rotate tag when it
  // copies the stream: 90 counter-clockwise, 270 clockwise; Chromium's own player then shows the
  // clip 36x64 with blue on top)
  const landscape = join(DIR, 'red and blue 64x36.mp4');
  ffmpeg([
    ...['-f', 'lavfi', '-i', 'color=c=red:size=64x36:rate=12', '-t', '1'],
    ...['-vf', 'drawbox=x=32:y=0:w=32:h=36:color=blue:t=fill'],
    ...['-c:v', 'libx264', '-pix_fmt', 'yuv420p', landscape],
  ]);
  ffmpeg(['-i', landscape, '-c', 'copy', '-metadata:s:v', 'rotate=90', UPRIGHT]);
});

/** The box of the canvas pixels that pass `keep`, and its shape (width over height). */
function paintedBox(pixels: Pixels, keep: (x: number, y: number) => boolean) {
  let [left, right, top, bottom] = [pixels.width, -1, pixels.height, -1];
  for (let y = 0; y < pixels.height; y++)
    for (let x = 0; x < pixels.width; x++) {
      if (pixels.at(x, y, 3) === 0 || !keep(x, y)) continue;
      [left, right] = [Math.min(left, x), Math.max(right, x)];
      [top, bottom] = [Math.min(top, y), Math.max(bottom, y)];
    }
  return { left, right, top, bottom, shape: (right - left + 1) / (bottom - top + 1) };
}

interface Pixels {
  readonly width: number;
  readonly height: number;
  at(x: number, y: number, c: number): number;
}

/**
 * What the canvas shows, read from its backing store after the next paint. The bytes cross as
 * base64: as a JSON array of numbers, a 1280x720 canvas took 5 s to cross.
 */
async function canvasPixels(canvas: Locator): Promise<Pixels> {
  const { width, height, base64 } = await canvas.evaluate(async (el: HTMLCanvasElement) => {
    await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
    const ctx = el.getContext('2d')!;
    const img = ctx.getImageData(0, 0, el.width, el.height);
    let binary = '';
    for (let i = 0; i < img.data.length; i += 0x8000)
      binary += String.fromCharCode(...img.data.subarray(i, i + 0x8000));
    return { width: img.width, height: img.height, base64: btoa(binary) };
  });
  const data = Buffer.from(base64, 'base64');
  expect(data.length).toBe(width * height * 4);
  return { width, height, at: (x, y, c) => data[(y * width + x) * 4 + c]! };
}

function regionDiff(a: Pixels, b: Pixels, x0: number, x1: number): number {
  let sum = 0;
  let n = 0;
  for (let y = 0; y < a.height; y++)
    for (let x = x0; x < x1; x++)
      for (let c = 0; c < 3; c++) {
        sum += Math.abs(a.at(x, y, c) - b.at(x, y, c));
        n++;
      }
  return sum / n;
}

/** CPU backend and x2 keep a preview fast on a CPU-only test machine. */
async function onCpuAt2x(page: Page): Promise<void> {
  await page.getByTestId('backend-select').selectOption('wasm');
  await page.getByTestId('scale-select').selectOption('2');
  // the smallest x2 pack: these tests are about the page (its model loads and runs in about
  // half the default x2 pack's time); the model's own output is tested elsewhere
  await page.getByTestId('model-select').selectOption('builtin:esrgan-slim-x2');
}

async function openClip(
  page: Page,
  path: string,
  before?: (page: Page) => Promise<void>,
): Promise<void> {
  // no native save dialog in automation: the app falls back to render-then-download
  await withoutSavePicker(page);
  await page.goto('/');
  await expect(page.getByTestId('gpu-status')).toContainText(/WebGPU|unavailable/, {
    timeout: 30_000,
  });
  await before?.(page);
  await page.getByTestId('file-input').setInputFiles(path);
}

test('drop, see a before/after, compare, preview, zoom, render and save', async ({ page }) => {
  test.setTimeout(300_000);
  await openClip(page, CLIP, onCpuAt2x);
  await expect(page.getByTestId('source-video')).toContainText('H.264 64×36');
  await expect(page.getByTestId('source-frames')).toContainText('12 at 12 fps');
  await expect(page.getByTestId('source-audio')).toContainText('AAC');
  await screenshot(page, '1-summary');

  // the drop alone gives the first before/after: no click on Preview, half-way into this
  // one-second clip (past where a fade-in would be), and the preview frame field says which
  await expect(page.getByTestId('preview-time')).toBeVisible({ timeout: 120_000 });
  // the first run also set the model up: a render's time needs a second look
  await expect(page.getByTestId('preview-time')).toHaveText(
    /^One frame took \d+\.\d s, setting the model up included: preview again to see what the render would take\.$/,
  );
  await expect(page.getByTestId('frame-position')).toHaveText('Frame 7');
  await expect(page.getByTestId('preview-frame')).toHaveValue('7');
  await screenshot(page, '2-preview');
  const canvas = page.getByTestId('compare-canvas');
  await canvas.focus();
  await page.keyboard.press('End'); // divider at the right edge: all original
  const before = await canvasPixels(canvas);
  await page.keyboard.press('Home'); // divider at the left edge: all enhanced
  const after = await canvasPixels(canvas);
  const w = before.width;
  expect(regionDiff(before, after, 0, w)).toBeGreaterThan(1); // the two really differ

  // drag the divider to about the middle with the mouse
  const box = (await canvas.boundingBox())!;
  await page.mouse.move(box.x + 2, box.y + box.height / 2);
  await page.mouse.down();
  await page.mouse.move(box.x + box.width * 0.5, box.y + box.height / 2, { steps: 5 });
  await page.mouse.up();
  const split = Number(await canvas.getAttribute('aria-valuenow'));
  expect(split).toBeGreaterThanOrEqual(45);
  expect(split).toBeLessThanOrEqual(55);
  const mixed = await canvasPixels(canvas);
  await screenshot(page, '3-split');
  const left = [Math.round(w * 0.05), Math.round(w * 0.4)] as const;
  const right = [Math.round(w * 0.6), Math.round(w * 0.95)] as const;
  // left of the divider is the original, right of it the enhanced frame
  expect(regionDiff(mixed, before, ...left)).toBeLessThan(0.5);
  expect(regionDiff(mixed, after, ...right)).toBeLessThan(0.5);
  expect(regionDiff(mixed, after, ...left)).toBeGreaterThan(1);
  expect(regionDiff(mixed, before, ...right)).toBeGreaterThan(1);

  // keyboard moves the divider too
  await page.keyboard.press('ArrowRight');
  expect(Number(await canvas.getAttribute('aria-valuenow'))).toBe(split + 2);

  // Preview enhances the frame asked for
  await page.getByTestId('preview-frame').fill('5');
  await page.getByTestId('preview-button').click();
  await expect(page.getByTestId('frame-position')).toHaveText('Frame 5', { timeout: 120_000 });
  await expect(page.getByTestId('preview-time')).toBeVisible({ timeout: 120_000 });
  // the model was set up by the first look: this time is a render's, and says what the whole
  // clip would take at that speed
  const estimated =
    /^One frame took \d+\.\d s, so rendering the 12 frames would take at least \d+(\.\d)? s at this speed\.$/;
  await expect(page.getByTestId('preview-time')).toHaveText(estimated);
  // a frame made with other settings says so; back to those settings, it is current again
  await expect(page.getByTestId('stale-note')).toHaveCount(0);
  await page.getByTestId('temporal').uncheck();
  await expect(page.getByTestId('stale-note')).toContainText('enhanced with other settings');
  // (and its time says nothing of a render with these settings)
  await expect(page.getByTestId('preview-time')).toHaveText(/^One frame took \d+\.\d s\.$/);
  await page.getByTestId('temporal').check();
  await expect(page.getByTestId('stale-note')).toHaveCount(0);
  await expect(page.getByTestId('preview-time')).toHaveText(estimated);
  await canvas.focus();

  // zoom in 8x: nearest-neighbour, so each enhanced pixel is a block of identical screen pixels
  await page.keyboard.press('Home');
  for (let i = 0; i < 3; i++) await page.keyboard.press('+');
  await expect(page.getByTestId('zoom-level')).toHaveText('8×');
  const zoomed = await canvasPixels(canvas);
  await screenshot(page, '4-zoom');
  const y = Math.floor(zoomed.height / 2);
  let runs = 0;
  let longest = 0;
  let run = 1;
  for (let x = 1; x < zoomed.width; x++) {
    const same = [0, 1, 2].every((c) => zoomed.at(x, y, c) === zoomed.at(x - 1, y, c));
    if (same) run++;
    else {
      runs++;
      longest = Math.max(longest, run);
      run = 1;
    }
  }
  expect(runs).toBeGreaterThan(5); // there is detail on this row
  expect(longest).toBeGreaterThanOrEqual(8); // and it comes in whole-pixel blocks
  // zoomed, Shift+arrows move the picture and leave the divider where it is
  const divider = await canvas.getAttribute('aria-valuenow');
  await page.keyboard.press('Shift+ArrowLeft');
  await page.keyboard.press('Shift+ArrowUp');
  expect(await canvas.getAttribute('aria-valuenow')).toBe(divider);
  expect(regionDiff(await canvasPixels(canvas), zoomed, 0, zoomed.width)).toBeGreaterThan(1);
  // the zoom-out button stays a tab stop at Fit (it does not drop focus to the page)
  await page.keyboard.press('0');
  const zoomOut = page.getByRole('button', { name: 'Zoom out' });
  await zoomOut.focus();
  await page.keyboard.press('Enter');
  await expect(zoomOut).toBeFocused();
  await expect(zoomOut).toHaveAttribute('aria-disabled', 'true');
  await expect(page.getByTestId('zoom-level')).toHaveText('Fit');

  // the full render, then save
  await page.getByTestId('render-button').click();
  await expect(page.getByTestId('render-done')).toBeVisible({ timeout: 240_000 });
  await expect(page.getByTestId('render-status')).toContainText('12 / 12 frames (100%)');
  await screenshot(page, '5-done');
  const download = page.waitForEvent('download');
  await page.getByTestId('download-link').click();
  const saved = join(DIR, 'saved.mp4');
  await (await download).saveAs(saved);
  expect((await download).suggestedFilename()).toBe('tiny clip.upframe-x2.mp4');
  const facts = videoFacts(saved);
  expect([facts.frames, facts.width, facts.height, facts.hasAudio]).toEqual([12, 128, 72, true]);
});

test('a clip opened while the previous one previews shows its own before/after', async ({
  page,
}) => {
  test.setTimeout(300_000);
  await openClip(page, BARS, onCpuAt2x);
  // the colour bars preview by themselves; the blue clip comes while they do
  await expect(page.getByTestId('preview-button')).toHaveText('Enhancing one frame…', {
    timeout: 60_000,
  });
  // the viewer says what it waits for, where the person looks
  await expect(page.getByTestId('stage-note')).toHaveText('Enhancing frame 7 for a first look…');
  await page.getByTestId('file-input').setInputFiles(BLUE);
  await expect(page.getByTestId('source-video')).toContainText('H.264 64×36');
  await expect(page.getByTestId('preview-time')).toBeVisible({ timeout: 120_000 });
  await expect(page.getByTestId('frame-position')).toHaveText('Frame 7');
  // what the canvas shows in its middle is the blue clip, not a late frame of the bars
  const pixels = await canvasPixels(page.getByTestId('compare-canvas'));
  const mean = [0, 0, 0];
  const [x0, x1] = [Math.round(pixels.width * 0.4), Math.round(pixels.width * 0.6)];
  const [y0, y1] = [Math.round(pixels.height * 0.4), Math.round(pixels.height * 0.6)];
  for (let y = y0; y < y1; y++)
    for (let x = x0; x < x1; x++) for (let c = 0; c < 3; c++) mean[c]! += pixels.at(x, y, c);
  const n = (x1 - x0) * (y1 - y0);
  const [r, g, b] = mean.map((v) => v / n) as [number, number, number];
  expect(b, `${r} ${g} ${b}`).toBeGreaterThan(180);
  expect(Math.max(r, g), `${r} ${g} ${b}`).toBeLessThan(60);
  await screenshot(page, '7-switched');
});

test('non-square pixels are shown at the shape a player shows them', async ({ page }) => {
  test.setTimeout(300_000);
  await openClip(page, WIDE_PIXELS, onCpuAt2x);
  // 64x36 pixels twice as wide as tall: shown 128x36
  await expect(page.getByTestId('source-video')).toContainText('H.264 128×36');
  await expect(page.getByTestId('preview-time')).toBeVisible({ timeout: 120_000 });
  const pixels = await canvasPixels(page.getByTestId('compare-canvas'));
  // the blue picture's box (around it the canvas is transparent; the divider is white)
  const { shape } = paintedBox(
    pixels,
    (x, y) => pixels.at(x, y, 2) > 150 && pixels.at(x, y, 0) < 60,
  );
  expect(shape).toBeGreaterThan((128 / 36) * 0.97);
  expect(shape).toBeLessThan((128 / 36) * 1.03);
  await screenshot(page, '8-wide-pixels');
  // the finished file keeps the pixel shape, and the Done line gives the size players show
  await page.getByTestId('frame-to').fill('2');
  await page.getByTestId('render-button').click();
  await expect(page.getByTestId('render-done')).toContainText('Done: 2 frames at 256×72', {
    timeout: 120_000,
  });
});

test('an interlaced clip is deinterlaced unless the person says otherwise; a progressive one is not asked', async ({
  page,
}) => {
  await openClip(page, INTERLACED, onCpuAt2x);
  await expect(page.getByTestId('source-video')).toHaveText('H.264 64×36, interlaced');
  const mode = page.getByTestId('deinterlace');
  await expect(mode).toBeVisible();
  await expect(mode).toHaveValue('auto');
  // how the stream marks its first pictures (every one as fields, here)
  await expect(page.getByTestId('deinterlace-hint')).toHaveText(
    /^Each picture the stream marks as two fields is rebuilt at its first field's moment \((\d+) of its first \1 pictures are\)\.$/,
  );
  await expect(page.locator('.warning', { hasText: 'may be interlaced' }).first()).toContainText(
    'by default Upframe deinterlaces it before enhancing',
  );
  await screenshot(page, '12-interlaced');
  await mode.selectOption('off');
  await expect(mode).toHaveValue('off');
  // the next clip decides for itself: this one has no fields, so no such setting. (Each clip
  // opens after the previous one's preview, a model run on the CPU, gives way: on a loaded
  // machine that takes longer than the default 5 s.)
  const opened = { timeout: 20_000 };
  await page.getByTestId('file-input').setInputFiles(BLUE);
  await expect(page.getByTestId('source-video')).toContainText('H.264 64×36', opened);
  await expect(page.getByTestId('deinterlace')).toHaveCount(0);
  await page.getByTestId('file-input').setInputFiles(INTERLACED);
  await expect(page.getByTestId('deinterlace')).toHaveValue('auto', opened);
  // the order of the fields is the stream's own
  await page.getByTestId('file-input').setInputFiles(INTERLACED_BFF);
  await expect(page.getByTestId('source-video')).toHaveText(
    'H.264 64×36, interlaced, bottom field first',
    opened,
  );
  await expect(page.getByTestId('deinterlace')).toHaveValue('auto');
  // every frame, with the field that comes first: the stream's word, or the person's
  await expect(page.getByTestId('field-order')).toHaveCount(0);
  await page.getByTestId('deinterlace').selectOption('every');
  const order = page.getByTestId('field-order');
  await expect(order.locator('option:checked')).toHaveText('As the stream says (bottom field)');
  await order.selectOption('top-first');
  await expect(order).toHaveValue('top-first');
  await screenshot(page, '12-interlaced-field-order');
  await page.getByTestId('deinterlace').selectOption('off');
  await expect(order).toHaveCount(0);
  // progressive pictures in a stream that could hold fields (as Blu-ray stores 1080p): no
  // warning and no "interlaced", and the setting says why nothing is done
  await page.getByTestId('file-input').setInputFiles(fixturePath('fake-interlaced.mp4'));
  await expect(page.getByTestId('deinterlace')).toHaveValue('auto', opened);
  await expect(page.getByTestId('deinterlace-hint')).toContainText(
    'none of its first 8 pictures are: they are left as they are',
  );
  await expect(page.getByTestId('source-video')).not.toContainText('interlaced');
  await expect(page.locator('.warning', { hasText: 'may be interlaced' })).toHaveCount(0);
  await screenshot(page, '12-fake-interlaced');
});

test('a clip filmed upright is shown upright', async ({ page }) => {
  test.setTimeout(300_000);
  await openClip(page, UPRIGHT, onCpuAt2x);
  await expect(page.getByTestId('source-video')).toContainText(
    'H.264 36×64 (turned 90° counter-clockwise)',
  );
  await expect(page.getByTestId('preview-time')).toBeVisible({ timeout: 120_000 });
  const pixels = await canvasPixels(page.getByTestId('compare-canvas'));
  const red = (x: number, y: number) => pixels.at(x, y, 0) > 150 && pixels.at(x, y, 2) < 90;
  const blue = (x: number, y: number) => pixels.at(x, y, 2) > 150 && pixels.at(x, y, 0) < 90;
  const picture = paintedBox(pixels, (x, y) => red(x, y) || blue(x, y));
  // portrait, 36 x 64 as a player shows it
  expect(picture.shape).toBeGreaterThan((36 / 64) * 0.97);
  expect(picture.shape).toBeLessThan((36 / 64) * 1.03);
  // turned as Chromium's <video> shows it: the frame's right half (blue) on top, red below
  // (read at a third of its width, on the original's side of the divider, then on the other)
  const at = (f: number) => Math.round(picture.top + f * (picture.bottom - picture.top));
  for (const side of [0.3, 0.7]) {
    const x = Math.round(picture.left + side * (picture.right - picture.left));
    expect(blue(x, at(0.25)), `${side}`).toBe(true);
    expect(red(x, at(0.75)), `${side}`).toBe(true);
  }
  await screenshot(page, '9-upright');
});

test('a clip the browser cannot encode at 4x opens at 2x, and the page says why and what would work', async ({
  page,
}) => {
  await openClip(page, LARGE, async (p) => {
    await p.getByTestId('backend-select').selectOption('wasm');
    await p.getByTestId('scale-select').selectOption('4');
  });
  const note = page.getByTestId('scale-note');
  // Chromium's VP9 encoder (libvpx) takes 4160x2344; its AV1 encoder may too, where it has one
  const others = /^(VP9|VP9 or AV1)$/;
  const lowered =
    /^2× for this clip: at 4× it would be 4160×2344, more than this browser's H\.264 encoder takes\. With (.+) output it can be 4×\.$/;
  await expect(note).toHaveText(lowered, { timeout: 30_000 });
  expect(lowered.exec((await note.textContent()) ?? '')?.[1]).toMatch(others);
  await expect(note).toHaveAttribute('data-kind', 'lowered');
  await expect(page.getByTestId('scale-select')).toHaveValue('2');
  await screenshot(page, '10-scale-note');
  // choosing 4x again is the person's call: it stays, with a warning that says what would work
  await page.getByTestId('scale-select').selectOption('4');
  await expect(note).toHaveAttribute('data-kind', 'misfit', { timeout: 120_000 });
  const misfit =
    /^At 4× this clip would be 4160×2344, more than this browser's H\.264 encoder takes: choose 2×, or (.+) output\.$/;
  await expect(note).toHaveText(misfit);
  expect(misfit.exec((await note.textContent()) ?? '')?.[1]).toMatch(others);
  await expect(page.getByTestId('scale-select')).toHaveValue('4');
  await screenshot(page, '11-scale-warning');
  // VP9 takes it: the warning goes, and 4x stays
  await page.getByTestId('codec-select').selectOption('vp9');
  await expect(note).toHaveCount(0);
  await expect(page.getByTestId('scale-select')).toHaveValue('4');
});

test('a broken file gets a sentence and a next step', async ({ page }) => {
  const bad = join(DIR, 'not a video.mp4');
  const { writeFileSync } = await import('node:fs');
  writeFileSync(bad, Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 37) & 255)));
  await openClip(page, bad);
  const error = page.getByTestId('source-error');
  await expect(error).toBeVisible({ timeout: 20_000 });
  await expect(error).toHaveAttribute('data-code', 'UNSUPPORTED_CONTAINER');
  await expect(error).toContainText('MP4');
  await expect(page.getByTestId('render-button')).toBeDisabled();
  await screenshot(page, '6-error');
});
