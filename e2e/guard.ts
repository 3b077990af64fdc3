import { test as base, expect, type BrowserContext, type Page } from '@playwright/test';
import { mkdirSync } from 'node:fs';

/**
 * Every e2e test runs with a network guard: any request that leaves the page's own origin fails
 * the test (Upframe uploads nothing and fetches nothing from elsewhere).
 */
export const test = base.extend<{ foreignRequests: string[] }>({
  foreignRequests: [
    async ({ page, baseURL }, use) => {
      const origin = new URL(baseURL ?? 'http://localhost/').origin;
      const foreign: string[] = [];
      await page.context().route('**/*', (route) => {
        const url = route.request().url();
        const allowed =
          url.startsWith(origin) || url.startsWith('blob:') || url.startsWith('data:');
        if (!allowed) {
          foreign.push(url);
          return route.abort();
        }
        return route.continue();
      });
      await use(foreign);
      expect(foreign, 'requests outside the origin').toEqual([]);
    },
    { auto: true },
  ],
});

export { expect };

/**
 * Removes the native save dialog (automation cannot answer it) from the pages of `target`, so
 * renders end in a download, as in browsers without File System Access.
 */
export async function withoutSavePicker(target: Page | BrowserContext): Promise<void> {
  await target.addInitScript(() => {
    delete (window as { showSaveFilePicker?: unknown }).showSaveFilePicker;
  });
}

/** Frames done, from the render status line ("12 / 72 frames (16%) ..."). */
export function framesDone(text: string | null): number {
  return Number(/^(\d+) \//.exec(text ?? '')?.[1] ?? NaN);
}

export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync('test-results/screens', { recursive: true });
  await page.screenshot({ path: `test-results/screens/${name}.png`, fullPage: true });
}
