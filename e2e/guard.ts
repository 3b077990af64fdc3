import { test as base, expect, type Page } from '@playwright/test';
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

export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync('test-results/screens', { recursive: true });
  await page.screenshot({ path: `test-results/screens/${name}.png`, fullPage: true });
}
