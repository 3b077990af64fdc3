import { describe, expect, it } from 'vitest';
import { identityKey, readHandle, rememberSource, sourceHandle } from './source-handles.ts';

/** A file in the origin-private file system: a real FileSystemFileHandle a test can make. */
async function opfsFile(name: string, text: string): Promise<FileSystemFileHandle> {
  const root = await navigator.storage.getDirectory();
  const dir = await root.getDirectoryHandle('source-handles-test', { create: true });
  const handle = await dir.getFileHandle(name, { create: true });
  const writable = await handle.createWritable();
  await writable.write(text);
  await writable.close();
  return handle;
}

describe('source handles', () => {
  it('finds the handle a clip was opened with by the identity a render journal records', async () => {
    const handle = await opfsFile('clip a.mp4', 'first clip');
    const file = await handle.getFile();
    await rememberSource(file, handle);
    const found = await sourceHandle({
      name: file.name,
      size: file.size,
      lastModified: file.lastModified,
    });
    expect(found).not.toBeNull();
    expect(await found!.isSameEntry(handle)).toBe(true);
    expect(await (await readHandle(found!))!.text()).toBe('first clip');
    // another size or date is another clip
    expect(
      await sourceHandle({ name: file.name, size: file.size + 1, lastModified: file.lastModified }),
    ).toBeNull();
    expect(
      await sourceHandle({ name: file.name, size: file.size, lastModified: file.lastModified + 1 }),
    ).toBeNull();
  });

  it('keeps only the newest sixteen', async () => {
    const files: File[] = [];
    for (let i = 0; i < 18; i++) {
      const handle = await opfsFile(`clip ${i}.mp4`, `clip number ${i}`);
      const file = await handle.getFile();
      files.push(file);
      await rememberSource(file, handle);
      await new Promise((r) => setTimeout(r, 2)); // distinct store times
    }
    const found = await Promise.all(files.map((f) => sourceHandle(f)));
    expect(found.map((h) => h !== null)).toEqual([false, false, ...Array<boolean>(16).fill(true)]);
    expect(await (await readHandle(found[17]!))!.text()).toBe('clip number 17');
  });

  it('keys apart names that differ only where a separator could hide', () => {
    expect(identityKey({ name: 'a1', size: 23, lastModified: 4 })).not.toBe(
      identityKey({ name: 'a', size: 123, lastModified: 4 }),
    );
  });
});
