import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { shippedPackages, thirdPartyNotices } from './third-party.mjs';

const ROOT = join(import.meta.dirname, '..');

describe('third-party notices', () => {
  const packages = shippedPackages(ROOT);
  const names = packages.map((p) => p.name);

  it('lists the runtime packages and their dependencies, not type declarations', () => {
    for (const name of [
      'react',
      'react-dom',
      'scheduler',
      'zustand',
      'mediabunny',
      'mp4box',
      'onnxruntime-web',
      'onnxruntime-common',
      'protobufjs',
      'long',
      'flatbuffers',
    ]) {
      expect(names).toContain(name);
    }
    for (const name of ['@types/node', '@types/dom-webcodecs', 'csstype', 'undici-types']) {
      expect(names).not.toContain(name);
    }
    // nothing only the build or the tests use
    for (const name of ['vite', 'vitest', '@playwright/test', '@tensorflow/tfjs', 'typescript']) {
      expect(names).not.toContain(name);
    }
  });

  it('carries each licence file whole, and says where one is missing', () => {
    const text = thirdPartyNotices(ROOT);
    const react = readFileSync(join(ROOT, 'node_modules', 'react', 'LICENSE'), 'utf8').trim();
    expect(text).toContain(`react 19.3.1  (MIT)`);
    expect(text).toContain(react);
    const mpl = readFileSync(join(ROOT, 'node_modules', 'mediabunny', 'LICENSE'), 'utf8').trim();
    expect(text).toContain(mpl);
    const apache = packages.find((p) => p.name === 'long')!;
    expect(apache.licence).toBe('Apache-2.0');
    expect(apache.files.map((f) => f.name)).toContain('LICENSE');
    // onnxruntime-web ships no licence file: its entry says so and names the licence
    const ort = packages.find((p) => p.name === 'onnxruntime-web')!;
    expect(ort.files).toEqual([]);
    expect(text).toMatch(
      /onnxruntime-web 1\.30\.0 {2}\(MIT\)[\s\S]*?carries no licence file; its package\.json names the licence MIT/,
    );
  });

  it('says how the mended mediabunny differs and where its source is', () => {
    const mediabunny = packages.find((p) => p.name === 'mediabunny')!;
    expect(mediabunny.mended).toMatch(/scripts\/patch-deps\.mjs/);
    expect(mediabunny.mended).toMatch(/mediabunny@1\.61\.0/);
    expect(packages.filter((p) => p.mended).map((p) => p.name)).toEqual(['mediabunny']);
  });
});
