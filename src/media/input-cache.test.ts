import { beforeEach, describe, expect, it, vi } from 'vitest';
import type { MediaInput } from './input-types.ts';

// a reader that counts its openings and closings (the real ones are tested with real files)
const opened: { name: string; closed: boolean }[] = [];
vi.mock('./input.ts', () => ({
  openInput: (blob: Blob) => {
    const name = blob instanceof File ? blob.name : 'blob';
    const entry = { name, closed: false };
    opened.push(entry);
    if (name.startsWith('bad')) return Promise.reject(new Error('cannot read'));
    return Promise.resolve({
      blob,
      close: () => {
        entry.closed = true;
      },
    } as unknown as MediaInput);
  },
}));

const { forgetInputs, leaseInput } = await import('./input-cache.ts');

// a File as the worker receives it: a new object for every message
const clip = (name: string, lastModified = 1) =>
  new File([new Uint8Array(16)], name, { lastModified });

describe('the clip a worker keeps open', () => {
  beforeEach(() => {
    forgetInputs();
    opened.length = 0;
  });

  it('is read once for every use of the same file, and closed after another is opened', async () => {
    const a = await leaseInput(clip('film.mkv'));
    a.release();
    const b = await leaseInput(clip('film.mkv'));
    expect(b.input).toBe(a.input);
    expect(opened.map((o) => o.name)).toEqual(['film.mkv']);
    // another clip while the first is still leased: the first stays open until given back
    const other = await leaseInput(clip('other.mp4'));
    expect(opened[0]!.closed).toBe(false);
    b.release();
    b.release(); // (once only)
    await Promise.resolve();
    expect(opened[0]!.closed).toBe(true);
    // the same name, size and time with other bytes (another camera's card) is another file
    const twin = await leaseInput(
      new File([new Uint8Array(16).fill(7)], 'other.mp4', { lastModified: 1 }),
    );
    expect(twin.input).not.toBe(other.input);
    twin.release();
    // the same name changed on disk since is another file
    const changed = await leaseInput(clip('other.mp4', 2));
    expect(changed.input).not.toBe(other.input);
    other.release();
    changed.release();
  });

  it('a file that cannot be opened is read again next time', async () => {
    await expect(leaseInput(clip('bad.mp4'))).rejects.toThrow('cannot read');
    await expect(leaseInput(clip('bad.mp4'))).rejects.toThrow('cannot read');
    const ok = await leaseInput(clip('fine.mp4'));
    expect(opened.map((o) => o.name)).toEqual(['bad.mp4', 'bad.mp4', 'fine.mp4']);
    ok.release();
  });
});
