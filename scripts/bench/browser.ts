/**
 * Opens the built app's bench page (dist/bench.html) in headless Chromium, as scripts/enhance.ts
 * opens the harness: the production build served from localhost with cross-origin isolation,
 * WebGPU on, and every request outside the origin refused and reported. Shared by `npm run bench`
 * and `npm run eval`.
 */
import { chromium, type Browser, type Page } from 'playwright';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { staleBuildReason } from '../build-state.mjs';
import { startServer } from '../serve.mjs';

export const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));

/**
 * UPFRAME_DIST serves another build of the app (e.g. `vite build --outDir /tmp/x`), so a bench of
 * changed code need not rebuild dist/ under someone else's running bench or eval.
 */
const DIST = process.env['UPFRAME_DIST'];

export function ensureBuild(): void {
  if (DIST !== undefined) {
    if (!existsSync(join(DIST, 'bench.html')))
      throw new Error(`UPFRAME_DIST=${DIST} has no bench.html.`);
    return;
  }
  const stale = staleBuildReason(ROOT);
  if (stale === null) return;
  console.log(`Building the app first (npm run build): ${stale}…`);
  const r = spawnSync(process.execPath, [join(ROOT, 'scripts', 'build.mjs')], { stdio: 'inherit' });
  if (r.status !== 0) throw new Error('The build failed; see above.');
}

export interface BenchSession {
  readonly page: Page;
  readonly origin: string;
  /** Requests the page tried to make outside its origin (refused). */
  readonly foreign: readonly string[];
  close(): Promise<void>;
}

export async function openBenchPage(mounts: Record<string, string>): Promise<BenchSession> {
  ensureBuild();
  const server = await startServer({
    port: 0,
    quiet: true,
    mounts,
    ...(DIST !== undefined ? { dir: resolve(DIST) } : {}),
  });
  let browser: Browser | null = null;
  try {
    browser = await chromium.launch({
      executablePath: process.env['UPFRAME_CHROMIUM'] ?? '/usr/bin/chromium',
      args: [
        '--enable-unsafe-webgpu',
        '--no-sandbox',
        // exact heap figures from performance.memory, and window.gc() for after-GC figures
        '--enable-precise-memory-info',
        '--js-flags=--expose-gc',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
      ],
    });
    const context = await browser.newContext();
    const page = await context.newPage();
    const origin = new URL(server.url).origin;
    const foreign: string[] = [];
    await context.route('**/*', async (route) => {
      const url = route.request().url();
      if (url.startsWith(origin) || url.startsWith('blob:') || url.startsWith('data:'))
        return route.continue();
      foreign.push(url);
      return route.abort();
    });
    page.on('pageerror', (err) => console.error(`page error: ${err.message}`));
    page.on('console', (msg) => {
      if (msg.type() === 'error') console.error(`page console: ${msg.text()}`);
      // progress of cases that run for minutes (the CFR bands on a software adapter)
      else if (msg.type() === 'info' && msg.text().startsWith('[bench] ')) console.log(msg.text());
    });
    await page.goto(new URL('bench.html', server.url).href);
    await page.waitForSelector('body[data-ready="true"]');
    const opened = browser;
    return {
      page,
      origin,
      foreign,
      async close() {
        await opened.close();
        await server.close();
      },
    };
  } catch (err) {
    await browser?.close();
    await server.close();
    throw err;
  }
}
