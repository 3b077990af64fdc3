#!/usr/bin/env node
// Production build: make the built-in model packs with the project's own converter (models/),
// build the app with Vite, and put the packs next to it as /packs/. No download: the weights come
// from the npm packages that are already installed.
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { STAMP } from './build-state.mjs';
import { thirdPartyNotices } from './third-party.mjs';
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
// The project's own trained packs (models/lite/, committed) join the built-in list. Upframe-lite
// x4 is the x4 default: on `npm run eval` it beats bicubic and the ESRGAN packs on every clip,
// in PSNR and E*warp (README, "Quality"). At x2 the default is whichever the eval favours,
// set here (one default per scale; ESRGAN medium x2 when no lite pack is the x2 default).
const LITE_X2_DEFAULT = false;
const LITE_PACKS = [
  { dir: 'pack', name: 'upframe-lite-x4', default: true },
  { dir: 'pack-x2', name: 'upframe-lite-x2', default: LITE_X2_DEFAULT },
];
const indexPath = join(ROOT, 'models', 'packs', 'index.json');
for (const lite of LITE_PACKS) {
  const litePack = join(ROOT, 'models', 'lite', lite.dir);
  if (!existsSync(join(litePack, 'manifest.json')) || !existsSync(indexPath)) continue;
  const manifest = JSON.parse(readFileSync(join(litePack, 'manifest.json'), 'utf8'));
  const name = lite.name;
  rmSync(join(ROOT, 'models', 'packs', name), { recursive: true, force: true });
  cpSync(litePack, join(ROOT, 'models', 'packs', name), { recursive: true });
  const index = JSON.parse(readFileSync(indexPath, 'utf8'));
  index.packs = index.packs.filter((p) => p.name !== name);
  if (lite.default) {
    for (const p of index.packs) if (p.scale === manifest.scale) p.default = false;
  }
  index.packs.push({
    name,
    title: manifest.title,
    kind: manifest.kind,
    scale: manifest.scale,
    bytes: manifest.files.reduce((sum, f) => sum + f.bytes, 0),
    default: lite.default,
  });
  if (!index.packs.some((p) => p.scale === 2 && p.default)) {
    for (const p of index.packs) if (p.name === 'esrgan-medium-x2') p.default = true;
  }
  writeFileSync(indexPath, `${JSON.stringify(index, null, 2)}\n`);
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
// What a copy of the app must carry: the licences of the packages and packs it ships.
writeFileSync(join(ROOT, 'dist', 'third-party-licences.txt'), thirdPartyNotices(ROOT));
writeFileSync(join(ROOT, STAMP), `${new Date().toISOString()}\n`);
console.log('Built into dist/.');
