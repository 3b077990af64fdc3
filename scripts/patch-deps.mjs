#!/usr/bin/env node
/**
 * Mends dependencies after `npm install` / `npm ci` (the postinstall script). Each mend names the
 * bug it fixes; the script stops with a clear sentence when a file no longer holds the text it
 * mends, so an upgrade that fixed (or moved) the code is noticed instead of silently shipping
 * the bug.
 *
 * mediabunny 1.61.0, `resync` (Matroska): it scans for the next level-1 element ID in chunks and
 * advances by the chunk's length minus 8. When it reaches the end of the file (or its limit)
 * without a match, the next chunk is exactly 8 bytes long: the loop over it runs zero times,
 * the position never moves, and (the bytes being cached, so no await yields) the thread spins
 * forever. A damaged WebM whose last element is garbled froze the worker that opened it. The
 * mend stops the scan when a chunk has no byte left to look at. mediabunny is MPL-2.0: the
 * mended files are published in this repository as this script.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

const MENDS = [
  {
    name: 'mediabunny 1.61.0 Matroska resync that never ends at the end of a file',
    package: 'mediabunny',
    version: '1.61.0',
    files: [
      'dist/modules/src/matroska/ebml.js',
      'dist/bundles/mediabunny.mjs',
      'dist/bundles/mediabunny.cjs',
      'dist/bundles/mediabunny.node.cjs',
    ],
    from: 'if (slice.length < MAX_VAR_INT_SIZE)',
    to: 'if (slice.length <= MAX_VAR_INT_SIZE /* mended by upframe: no progress otherwise */)',
  },
];

let failed = false;
for (const mend of MENDS) {
  const dir = join(root, 'node_modules', mend.package);
  let version;
  try {
    version = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')).version;
  } catch {
    continue; // not installed (e.g. a production install without it): nothing to mend
  }
  if (version !== mend.version) {
    console.error(
      `patch-deps: ${mend.package} is ${version}, not ${mend.version}: check whether "${mend.name}" ` +
        'is fixed there, then update or drop this mend in scripts/patch-deps.mjs.',
    );
    failed = true;
    continue;
  }
  for (const file of mend.files) {
    const path = join(dir, file);
    const text = readFileSync(path, 'utf8');
    if (text.includes(mend.to)) continue;
    const count = text.split(mend.from).length - 1;
    if (count !== 1) {
      console.error(
        `patch-deps: ${mend.package}/${file} holds the text to mend ${count} times, not once: ` +
          `"${mend.name}" was not applied.`,
      );
      failed = true;
      continue;
    }
    writeFileSync(path, text.replace(mend.from, mend.to));
  }
}
if (failed) process.exit(1);
