import { describe, expect, it } from 'vitest';
import { packManifestFile } from './pack-manifest-file.ts';

describe("a picked pack folder's manifest", () => {
  it('is the one nearest the top, wherever the browser lists it', () => {
    const file = (path: string) => ({ name: path.split('/').at(-1)!, webkitRelativePath: path });
    const top = file('pack/manifest.json');
    const files = [
      file('pack/old/manifest.json'),
      file('pack/model.onnx'),
      top,
      file('pack/a/b/manifest.json'),
    ];
    expect(packManifestFile(files)).toBe(top);
    expect(packManifestFile([file('pack/model.onnx')])).toBeNull();
  });
});
