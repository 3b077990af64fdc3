import { describe, expect, it } from 'vitest';
import { keepSettings, readKeptSettings } from './saved-settings.ts';

function memory(initial?: string): {
  getItem: (k: string) => string | null;
  setItem: (k: string, v: string) => void;
  text: () => string | null;
} {
  let value: string | null = initial ?? null;
  return {
    getItem: () => value,
    setItem: (_k, v) => void (value = v),
    text: () => value,
  };
}

const PACKS = ['upframe-lite-x4', 'esrgan-slim-x2'];

describe('kept settings', () => {
  it('keeps a person’s choices across visits, one change at a time', () => {
    const store = memory();
    keepSettings({ codec: 'vp9' }, store);
    keepSettings({ quality: 'low', frameFrom: 5, deinterlace: false }, store);
    keepSettings({ model: { type: 'builtin', name: 'esrgan-slim-x2' }, scale: 2 }, store);
    keepSettings({ temporal: false, tileSize: 256, backend: 'wasm' }, store);
    expect(readKeptSettings(PACKS, store)).toEqual({
      codec: 'vp9',
      quality: 'low',
      model: { type: 'builtin', name: 'esrgan-slim-x2' },
      scale: 2,
      temporal: false,
      tileSize: 256,
    });
    // one clip's frames and deinterlacing, and the backend, are not kept
    expect(JSON.parse(store.text()!)).not.toHaveProperty('frameFrom');
    expect(JSON.parse(store.text()!)).not.toHaveProperty('deinterlace');
    expect(JSON.parse(store.text()!)).not.toHaveProperty('backend');
  });

  it('model files from disk are not kept (the page cannot keep them); a web address is', () => {
    const store = memory();
    keepSettings({ model: { type: 'url', url: 'https://example.org/pack/' } }, store);
    keepSettings({ model: { type: 'files', files: [] } }, store);
    expect(readKeptSettings(PACKS, store).model).toEqual({
      type: 'url',
      url: 'https://example.org/pack/',
    });
    // with the scale its manifest said (so 2x after a reload still leaves an x4 pack)
    keepSettings({ model: { type: 'url', url: 'packs/x4/', scale: 4 } }, store);
    expect(readKeptSettings(PACKS, store).model).toEqual({
      type: 'url',
      url: 'packs/x4/',
      scale: 4,
    });
    keepSettings({ model: { type: 'url', url: 'packs/x4/', scale: -1 } }, store);
    expect(readKeptSettings(PACKS, store).model).toEqual({ type: 'url', url: 'packs/x4/' });
  });

  it('reads back only what is still valid', () => {
    const bad = memory(
      JSON.stringify({
        model: { type: 'builtin', name: 'a-pack-since-removed' },
        scale: 3,
        codec: 'hevc',
        quality: 'best',
        tileSize: -1,
        temporal: 'yes',
      }),
    );
    expect(readKeptSettings(PACKS, bad)).toEqual({});
    expect(readKeptSettings(PACKS, memory('{not json'))).toEqual({});
    expect(readKeptSettings(PACKS, memory('[1,2]'))).toEqual({});
    expect(readKeptSettings(PACKS, null)).toEqual({});
    // an unreadable record is started again, not kept failing
    const broken = memory('{not json');
    keepSettings({ quality: 'high' }, broken);
    expect(readKeptSettings(PACKS, broken)).toEqual({ quality: 'high' });
  });
});
