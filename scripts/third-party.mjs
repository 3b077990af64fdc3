/**
 * The notices a copy of the app must carry: every npm package the build can put in dist/ (the
 * lockfile's production packages, less those that hold only type declarations) with its version,
 * licence, repository and licence/notice files, and every built-in model pack with the licence
 * and source its manifest names. build.mjs writes it to dist/third-party-licences.txt, which the
 * page links to.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** Packages this project changes after install (scripts/patch-deps.mjs), and how. */
const MENDED = {
  mediabunny:
    'Upframe ships this package with one line of its Matroska reader changed (resync: a scan ' +
    'that reached the end of a file without a match never ended). The change is ' +
    'scripts/patch-deps.mjs in the Upframe repository; the unchanged source is the npm package ' +
    'mediabunny@1.61.0 and https://github.com/Vanilagy/mediabunny. Both are under the MPL-2.0.',
};

const NOTICE_FILE = /^(licen[cs]e|copying|notice)(\.(md|txt))?$/i;

function readJson(path) {
  return JSON.parse(readFileSync(path, 'utf8'));
}

/** A package that holds nothing but TypeScript declarations is never in the bundle. */
function typesOnly(dir, pkg) {
  if (pkg.name?.startsWith('@types/')) return true;
  const code = pkg.main || pkg.module || pkg.exports || pkg.browser;
  return !code && !existsSync(join(dir, 'index.js')) && Boolean(pkg.types || pkg.typings);
}

/** [{ name, version, licence, repository, files: [{ name, text }], mended? }] sorted by name. */
export function shippedPackages(root) {
  const lock = readJson(join(root, 'package-lock.json'));
  const out = [];
  for (const [path, entry] of Object.entries(lock.packages)) {
    if (path === '' || entry.dev || entry.devOptional) continue;
    const dir = join(root, path);
    if (!existsSync(join(dir, 'package.json'))) continue;
    const pkg = readJson(join(dir, 'package.json'));
    if (typesOnly(dir, pkg)) continue;
    const files = readdirSync(dir)
      .filter((f) => NOTICE_FILE.test(f))
      .sort()
      .map((f) => ({ name: f, text: readFileSync(join(dir, f), 'utf8').trim() }));
    const repository =
      typeof pkg.repository === 'string' ? pkg.repository : (pkg.repository?.url ?? '');
    const author = typeof pkg.author === 'string' ? pkg.author : (pkg.author?.name ?? '');
    out.push({
      name: pkg.name,
      version: pkg.version,
      licence: pkg.license ?? entry.license ?? 'unstated',
      repository,
      author,
      files,
      mended: MENDED[pkg.name] ?? null,
    });
  }
  return out.sort((a, b) => a.name.localeCompare(b.name));
}

/** [{ name, title, licence, source, photos }] of the built-in packs in models/packs/index.json. */
export function builtinPacks(root) {
  const dir = join(root, 'models', 'packs');
  if (!existsSync(join(dir, 'index.json'))) return [];
  return readJson(join(dir, 'index.json')).packs.map((entry) => {
    const manifest = readJson(join(dir, entry.name, 'manifest.json'));
    const data = manifest.extra?.trainingData;
    return {
      name: entry.name,
      title: manifest.title,
      licence: manifest.licence,
      source: manifest.source,
      // the photographs a pack trained here learnt from, with their licences (attribution)
      photos: (data?.photos ?? []).map((p) => ({
        file: p.file.split('/').pop(),
        licence: p.licence,
        from: data.package,
      })),
    };
  });
}

export function thirdPartyNotices(root) {
  const rule = '='.repeat(78);
  const lines = [
    'Upframe: third-party software and model weights in this copy of the app',
    '',
    'Upframe itself is under the MIT licence. It ships the npm packages below (bundled into its',
    'scripts and WebAssembly) and the model packs below, each under its own licence.',
    '',
    rule,
    'Model packs',
    rule,
  ];
  for (const pack of builtinPacks(root)) {
    lines.push(
      `${pack.name}: ${pack.title}`,
      `  licence: ${pack.licence}`,
      `  source: ${pack.source}`,
    );
    if (pack.photos.length > 0) lines.push('  trained on these photographs:');
    for (const photo of pack.photos) {
      lines.push(`    ${photo.file} (${photo.from}): ${photo.licence}`);
    }
  }
  for (const pkg of shippedPackages(root)) {
    lines.push('', rule, `${pkg.name} ${pkg.version}  (${pkg.licence})`, rule);
    if (pkg.repository) lines.push(`repository: ${pkg.repository}`);
    if (pkg.author) lines.push(`author: ${pkg.author}`);
    if (pkg.mended) lines.push('', pkg.mended);
    if (pkg.files.length === 0) {
      lines.push(
        '',
        `The package carries no licence file; its package.json names the licence ${pkg.licence}.`,
      );
    }
    for (const file of pkg.files) lines.push('', `--- ${file.name} ---`, file.text);
  }
  return `${lines.join('\n')}\n`;
}
