import { expect, screenshot, test } from './guard.ts';

test('the page loads, finds a WebGPU adapter and accepts a picked file', async ({ page }) => {
  const consoleErrors: string[] = [];
  page.on('console', (msg) => {
    if (msg.type() === 'error') consoleErrors.push(msg.text());
  });
  await page.goto('/');
  await expect(page.getByRole('heading', { name: /Upframe/ })).toBeVisible();
  const status = page.getByTestId('gpu-status');
  await expect(status).not.toContainText('Checking', { timeout: 30_000 });
  await expect(status).toContainText(/WebGPU ready|software adapter/);
  // SwiftShader in CI; a real GPU elsewhere. Either way an adapter is named.
  await expect(status).not.toContainText('unknown adapter');
  // on a software adapter (SwiftShader here) the CPU backend is the default: ORT's WebGPU backend
  // runs some 100x slower there; on a real GPU, WebGPU is
  const software = /software adapter/.test((await status.textContent()) ?? '');
  await expect(page.getByTestId('backend-select')).toHaveValue(software ? 'wasm' : 'webgpu');
  if (software) await expect(status).toContainText('Running on the CPU (wasm)');
  expect(await page.evaluate(() => crossOriginIsolated)).toBe(true);
  // the empty viewer says what it waits for
  await expect(page.getByTestId('stage-note')).toHaveText(
    'Drop a clip on the page, or pick one, to compare it here.',
  );

  const bytes = Buffer.alloc(3000, 7);
  await page.getByTestId('file-input').setInputFiles({
    name: 'holiday clip.mp4',
    mimeType: 'video/mp4',
    buffer: bytes,
  });
  await expect(page.getByTestId('source-name')).toHaveText('holiday clip.mp4');
  await expect(page.getByTestId('source-size')).toHaveText('2.93 KiB');
  await screenshot(page, 'app-loaded-with-file');
  expect(consoleErrors).toEqual([]);
});

test('an empty file gets a sentence, not silence', async ({ page }) => {
  await page.goto('/');
  await page.getByTestId('file-input').setInputFiles({
    name: 'empty.mp4',
    mimeType: 'video/mp4',
    buffer: Buffer.alloc(0),
  });
  await expect(page.getByTestId('source-error')).toContainText('is empty');
});

for (const [name, width, height] of [
  ['laptop', 1366, 768],
  ['large-monitor', 2560, 1440],
  ['narrow', 820, 1000],
  ['phone', 390, 844],
] as const) {
  test(`the layout holds at ${name} size (${width}x${height})`, async ({ page }) => {
    await page.setViewportSize({ width, height });
    await page.goto('/');
    await expect(page.getByTestId('gpu-status')).toContainText('WebGPU', { timeout: 30_000 });
    // nothing sticks out sideways, and the picture area uses the room it has
    const overflow = await page.evaluate(
      () => document.documentElement.scrollWidth - document.documentElement.clientWidth,
    );
    expect(overflow).toBeLessThanOrEqual(0);
    const canvas = await page.getByTestId('compare-canvas').boundingBox();
    expect(canvas).not.toBeNull();
    expect(canvas!.width).toBeGreaterThan(width * (width > 1000 ? 0.5 : 0.8));
    // every control is inside the window horizontally
    for (const id of ['render-button', 'preview-button', 'model-select', 'backend-select']) {
      const box = await page.getByTestId(id).boundingBox();
      expect(box, id).not.toBeNull();
      expect(box!.x + box!.width, id).toBeLessThanOrEqual(width);
    }
    if (width < 900) {
      // one column: the viewer and its buttons come before the settings
      const settings = await page.getByRole('heading', { name: 'Settings' }).boundingBox();
      const render = await page.getByTestId('render-button').boundingBox();
      expect(canvas!.y).toBeLessThan(settings!.y);
      expect(render!.y).toBeLessThan(settings!.y);
    }
    await screenshot(page, `layout-${name}`);
  });
}

test('the page links the licences of every package and model pack it ships', async ({
  page,
  context,
}) => {
  await page.goto('/');
  const link = page.getByRole('link', { name: /Licences of the software and models/ });
  await expect(link).toBeVisible();
  const [tab] = await Promise.all([context.waitForEvent('page'), link.click()]);
  await tab.waitForLoadState();
  const text = (await tab.locator('body').innerText()) ?? '';
  // shown as text in the browser, not offered as a download
  expect(text).toContain('Upframe: third-party software and model weights');
  // every built-in pack, with the licence its own manifest names
  const index = (await (await page.request.get('/packs/index.json')).json()) as {
    packs: { name: string }[];
  };
  expect(index.packs.length).toBeGreaterThan(5);
  for (const { name } of index.packs) {
    const manifest = (await (await page.request.get(`/packs/${name}/manifest.json`)).json()) as {
      title: string;
      licence: string;
    };
    expect(text).toContain(`${name}: ${manifest.title}\n  licence: ${manifest.licence}`);
  }
  // the runtime libraries, with their licence texts, and the mended one says how
  for (const pkg of ['react', 'zustand', 'onnxruntime-web', 'mp4box', 'mediabunny']) {
    expect(text).toMatch(new RegExp(`\\n${pkg} \\d+\\.\\d+\\.\\d+ +\\(`));
  }
  expect(text).toContain('Mozilla Public License Version 2.0');
  expect(text).toContain('scripts/patch-deps.mjs');
  await tab.close();
});

test('the settings a person chose are there on their next visit', async ({ page }) => {
  await page.goto('/');
  await expect(page.getByTestId('model-select')).toHaveValue('default');
  await page.getByTestId('scale-select').selectOption('2');
  await page.getByTestId('model-select').selectOption('builtin:esrgan-slim-x2');
  await page.getByTestId('codec-select').selectOption('vp9');
  await page.getByTestId('quality-select').selectOption('low');
  await page.getByTestId('temporal').uncheck();
  await page.reload();
  await expect(page.getByTestId('model-select')).toHaveValue('builtin:esrgan-slim-x2');
  await expect(page.getByTestId('scale-select')).toHaveValue('2');
  await expect(page.getByTestId('codec-select')).toHaveValue('vp9');
  await expect(page.getByTestId('quality-select')).toHaveValue('low');
  await expect(page.getByTestId('temporal')).not.toBeChecked();
});
