import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { STAMP, staleBuildReason } from './build-state.mjs';

const root = mkdtempSync(join(tmpdir(), 'upframe-build-state-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function write(path: string, secondsAgo: number): void {
  const full = join(root, path);
  mkdirSync(join(full, '..'), { recursive: true });
  writeFileSync(full, path);
  const t = Date.now() / 1000 - secondsAgo;
  utimesSync(full, t, t);
}

describe('staleBuildReason', () => {
  it('names the first reason dist/ is older than its sources, and ignores tests', () => {
    write('src/engine/a.ts', 100);
    write('models/lite/pack/encoder.onnx', 100);
    expect(staleBuildReason(root)).toBe('dist/ has not been built');
    write(STAMP, 50);
    expect(staleBuildReason(root)).toBeNull();
    write('src/engine/a.test.ts', 10);
    write('src/engine/b.browser.test.ts', 10);
    expect(staleBuildReason(root)).toBeNull();
    write('models/lite/pack/encoder.onnx', 10);
    expect(staleBuildReason(root)).toBe(
      'models/lite/pack/encoder.onnx changed since the last build',
    );
    write(STAMP, 5);
    write('harness.html', 1);
    expect(staleBuildReason(root)).toBe('harness.html changed since the last build');
  });
});
