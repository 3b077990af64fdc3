import { defineConfig } from 'vitest/config';
import { playwright } from '@vitest/browser-playwright';

const chromium = process.env['UPFRAME_CHROMIUM'] ?? '/usr/bin/chromium';

// Three projects: pure Node unit tests, WGSL kernel tests on Dawn-in-Node (the `webgpu` package),
// and the same kernel/browser tests inside real Chromium with WebGPU on.
export default defineConfig({
  test: {
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          environment: 'node',
          include: ['src/**/*.test.ts', 'models/**/*.test.ts', 'scripts/**/*.test.ts'],
          exclude: ['src/kernels/**', 'src/**/*.browser.test.ts'],
          testTimeout: 60_000,
        },
      },
      {
        extends: true,
        test: {
          name: 'kernel',
          environment: 'node',
          include: ['src/kernels/**/*.test.ts'],
          testTimeout: 120_000,
          // Dawn devices are heavy; one worker keeps SwiftShader from oversubscribing 2 cores.
          fileParallelism: false,
        },
      },
      {
        extends: true,
        test: {
          name: 'browser',
          globalSetup: ['test/media-fixtures-setup.ts'],
          include: ['src/kernels/**/*.test.ts', 'src/**/*.browser.test.ts'],
          testTimeout: 180_000,
          fileParallelism: false,
          browser: {
            enabled: true,
            headless: true,
            screenshotFailures: false,
            provider: playwright({
              launchOptions: {
                executablePath: chromium,
                args: [
                  '--enable-unsafe-webgpu',
                  '--no-sandbox',
                  '--disable-background-networking',
                  '--disable-component-update',
                  '--disable-sync',
                  '--no-first-run',
                ],
              },
            }),
            instances: [{ browser: 'chromium' }],
          },
        },
      },
    ],
  },
});
