#!/usr/bin/env node
// Production build: make the built-in model packs with the project's own converter (models/),
// build the app with Vite, and put the packs next to it as /packs/. No download: the weights come
// from the npm packages that are already installed.
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)));
const BIN = join(ROOT, 'node_modules', '.bin');

function step(label, command, args) {
  const result = spawnSync(command, args, { cwd: ROOT, stdio: 'inherit' });
  if (result.status !== 0) {
    console.error(`Build failed while ${label}.`);
    process.exit(result.status ?? 1);
  }
}

const converter = join(ROOT, 'models', 'esrgan', 'convert.ts');
if (existsSync(converter)) {
  step('converting the built-in ESRGAN packs', join(BIN, 'tsx'), [
    converter,
    '--out',
    'models/packs',
  ]);
}
const tinyDloral = join(ROOT, 'models', 'tiny-dloral', 'generate.ts');
if (existsSync(tinyDloral)) {
  step('generating the tiny DLoRAL test pack', join(BIN, 'tsx'), [
    tinyDloral,
    '--out',
    'models/packs/tiny-dloral',
  ]);
}
step('building the app', join(BIN, 'vite'), ['build', '--logLevel', 'warn']);
const packs = join(ROOT, 'models', 'packs');
if (existsSync(packs)) {
  rmSync(join(ROOT, 'dist', 'packs'), { recursive: true, force: true });
  cpSync(packs, join(ROOT, 'dist', 'packs'), { recursive: true });
}
console.log('Built into dist/.');
