/**
 * The manifest.json of a picked model pack folder: the one nearest the folder's top (a pack may
 * hold other folders with manifests of their own). The page reads its scale and the worker
 * loads the pack from it: both must take the same one.
 */
export function packManifestFile<F extends { name: string; webkitRelativePath: string }>(
  files: readonly F[],
): F | null {
  const depth = (f: F) => (f.webkitRelativePath || f.name).split('/').length;
  let best: F | null = null;
  for (const f of files) {
    if (f.name === 'manifest.json' && (best === null || depth(f) < depth(best))) best = f;
  }
  return best;
}
