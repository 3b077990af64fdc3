// Whether dist/ is older than what it is built from. `npm run enhance`, `npm run bench` and
// `npm run eval` rebuild when it is: they once ran a stale dist/ after a source change and
// printed results from code that was no longer there. build.mjs writes the stamp last.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

export const STAMP = join('dist', 'build-stamp.txt');

const INPUT_DIRS = [
  'src',
  'public',
  'models/esrgan',
  'models/tiny-dloral',
  'models/lite/pack',
  'models/lite/pack-x2',
];
const INPUT_FILES = [
  'index.html',
  'harness.html',
  'bench.html',
  'vite.config.ts',
  'package-lock.json',
  'scripts/build.mjs',
];

/** Tests do not go into the build. */
const isTest = (name) => /\.test\.tsx?$/.test(name);

function newest(root, path, best) {
  const full = join(root, path);
  if (!existsSync(full)) return best;
  const st = statSync(full);
  if (st.isDirectory()) {
    for (const name of readdirSync(full)) {
      if (!isTest(name)) best = newest(root, join(path, name), best);
    }
    return best;
  }
  return st.mtimeMs > best.mtimeMs ? { path, mtimeMs: st.mtimeMs } : best;
}

/** Null when dist/ is current, else why it is not (one short clause). */
export function staleBuildReason(root) {
  const stamp = join(root, STAMP);
  if (!existsSync(stamp)) return 'dist/ has not been built';
  const built = statSync(stamp).mtimeMs;
  let best = { path: '', mtimeMs: -Infinity };
  for (const p of [...INPUT_DIRS, ...INPUT_FILES]) best = newest(root, p, best);
  return best.mtimeMs > built
    ? `${relative(root, join(root, best.path))} changed since the last build`
    : null;
}
