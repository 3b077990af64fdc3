/**
 * The lite memory plan takes the generator's widest tensor from the pack when it says it
 * (extra.generator.widestChannels), so a wider generator gets smaller tiles instead of a GPU
 * buffer over the binding limit; packs that do not say it keep upframe-lite-1's 48 channels.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { UpframeError } from '../shared/errors.ts';
import { parseManifest } from './manifest.ts';
import { planLite, readLitePack } from './lite-pack.ts';
import type { LoadedPack } from './packs.ts';

const DIR = fileURLToPath(new URL('../../models/lite/pack/', import.meta.url));

function pack(extraGenerator?: unknown): LoadedPack {
  const raw = JSON.parse(readFileSync(`${DIR}manifest.json`, 'utf8')) as {
    extra: Record<string, unknown>;
  };
  if (extraGenerator !== undefined) raw.extra['generator'] = extraGenerator;
  const files = new Map<string, Uint8Array>();
  for (const name of readdirSync(DIR)) files.set(name, new Uint8Array(readFileSync(DIR + name)));
  return { manifest: parseManifest(raw, 'lite'), files };
}

// a binding limit that just holds a 200 x 200 frame at 48 channels: sqrt(limit / (48 * 4)) = 200
const limits = { maxStorageBufferBindingSize: 200 * 200 * 48 * 4, maxTextureDimension2D: 8192 };
const size = { width: 200, height: 200 };

describe('readLitePack / planLite: generator width', () => {
  it('the committed x4 pack plans with 48 channels per LQ pixel', () => {
    const parts = readLitePack(pack());
    expect(parts.generatorWidth).toBe(48);
    expect(planLite({ ...parts, preferredTile: 512 }, size, limits).tiles.tileWidth).toBe(200);
  });

  it('a pack whose generator is 4 x wider gets tiles of half the side', () => {
    const parts = readLitePack(pack({ widestChannels: 192 }));
    expect(parts.generatorWidth).toBe(192);
    expect(planLite({ ...parts, preferredTile: 512 }, size, limits).tiles.tileWidth).toBe(100);
  });

  it('refuses a width under the pixel-shuffle input (3 x scale²) or not a whole number', () => {
    for (const bad of [47, 64.5, '96']) {
      expect(() => readLitePack(pack({ widestChannels: bad }))).toThrow(UpframeError);
    }
  });
});
