import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { SourceSummary } from '../worker/protocol.ts';
import { resetStore, updateSlice, useStore } from './store.ts';

// the encoder takes every size: these tests are about which scale is asked for
vi.mock('../worker/client.ts', () => ({
  jobWorker: () => ({
    call: (method: string, input: { scales: number[] }) =>
      method === 'encode.scale'
        ? Promise.resolve({ scale: input.scales[0] })
        : Promise.reject(new Error(`unexpected call ${method}`)),
  }),
}));

const { chooseCustomPack, customPackScale, manifestAddress } = await import('./custom-pack.ts');
const { chooseScale } = await import('./scale-fit.ts');
const { resolveModel } = await import('./job-actions.ts');

const manifest = (scale: number): File =>
  new File([JSON.stringify({ name: 'mine', scale, files: [] })], 'manifest.json');
const settings = () => useStore.getState().settings;

describe('a model pack the person brings', () => {
  beforeEach(() => {
    resetStore();
    vi.stubGlobal('location', { href: 'http://localhost:4317/app/' });
    const summary = { decodable: true, video: { width: 64, height: 48, averageFps: 24 } };
    updateSlice('source', { summary: summary as unknown as SourceSummary });
  });
  afterEach(() => vi.unstubAllGlobals());

  it("moves the scale to the folder pack's own (the file is named and sized by it)", async () => {
    updateSlice('settings', { scale: 2 });
    const files = [new File([new Uint8Array(8)], 'model.onnx'), manifest(4)];
    await chooseCustomPack({ type: 'files', files });
    expect(settings().scale).toBe(4);
    expect(settings().model).toEqual({ type: 'files', files, scale: 4 });
    // another scale then leaves the pack for the default, as it does for a built-in pack
    await chooseScale(2);
    expect(settings().model).toEqual({ type: 'default' });
  });

  it('reads an address against the page, and leaves the scale alone where it cannot', async () => {
    expect(manifestAddress('packs/mine')).toBe(
      'http://localhost:4317/app/packs/mine/manifest.json',
    );
    expect(manifestAddress('/packs/mine/manifest.json')).toBe(
      'http://localhost:4317/packs/mine/manifest.json',
    );
    expect(manifestAddress('  ')).toBeNull();
    const fetched: string[] = [];
    vi.stubGlobal('fetch', (url: string) => {
      fetched.push(url);
      return Promise.resolve(
        url.includes('/x2/')
          ? new Response(JSON.stringify({ scale: 2 }))
          : new Response('not here', { status: 404 }),
      );
    });
    updateSlice('settings', { scale: 4 });
    await chooseCustomPack({ type: 'url', url: 'packs/x2/' });
    expect(fetched).toEqual(['http://localhost:4317/app/packs/x2/manifest.json']);
    expect(settings().scale).toBe(2);
    // the worker is given the page's address, with the scale the page expects of it
    expect(resolveModel(settings())).toEqual({
      type: 'url',
      url: 'http://localhost:4317/app/packs/x2/',
      scale: 2,
    });
    await chooseCustomPack({ type: 'url', url: 'packs/gone/' });
    expect(settings().scale).toBe(2);
    expect(settings().model).toEqual({ type: 'url', url: 'packs/gone/' });
    expect(
      await customPackScale({ type: 'files', files: [new File(['{'], 'manifest.json')] }),
    ).toBe(null);
  });
});
