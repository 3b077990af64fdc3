/**
 * Loading model packs: from the built-in set (/packs/ next to the app), from a URL the user gives,
 * or from files the user picks. Every file is verified against the manifest's sha256 before use
 * and cached in Cache Storage, so a second visit loads offline and fast.
 */
import { packManifestFile } from '../shared/pack-manifest-file.ts';
import { UpframeError } from '../shared/errors.ts';
import {
  parseManifest,
  parsePackIndex,
  verifyFile,
  type PackFile,
  type PackIndex,
  type PackManifest,
} from './manifest.ts';

export type PackSource =
  | { readonly type: 'builtin'; readonly name: string }
  | { readonly type: 'url'; readonly url: string }
  | { readonly type: 'files'; readonly files: readonly File[] };

export interface LoadedPack {
  readonly manifest: PackManifest;
  readonly files: ReadonlyMap<string, Uint8Array>;
}

export interface LoadProgress {
  readonly file: string;
  readonly loaded: number;
  readonly total: number;
}

const CACHE_NAME = 'upframe-packs-v1';

export function builtinBase(): string {
  return new URL('/packs/', self.location.href).href;
}

export async function loadBuiltinIndex(): Promise<PackIndex> {
  const url = new URL('index.json', builtinBase()).href;
  let response: Response;
  try {
    response = await fetch(url);
  } catch (err) {
    throw new UpframeError(
      'MODEL_LOAD_FAILED',
      `The list of built-in models could not be read: ${String(err)}`,
    );
  }
  if (!response.ok) {
    throw new UpframeError(
      'MODEL_LOAD_FAILED',
      `The list of built-in models is missing (HTTP ${response.status}). Was the app built with "npm run build"?`,
    );
  }
  return parsePackIndex(await response.json(), 'packs/index.json');
}

async function readWithProgress(
  response: Response,
  entry: PackFile,
  onProgress?: (p: LoadProgress) => void,
): Promise<Uint8Array<ArrayBuffer>> {
  const total = entry.bytes;
  if (!response.body) return new Uint8Array(await response.arrayBuffer());
  const out = new Uint8Array(total);
  const reader = response.body.getReader();
  let loaded = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    if (loaded + value.byteLength > total) {
      throw new UpframeError(
        'MODEL_INTEGRITY',
        `${entry.path}: larger than the ${total} bytes its manifest states.`,
      );
    }
    out.set(value, loaded);
    loaded += value.byteLength;
    onProgress?.({ file: entry.path, loaded, total });
  }
  if (loaded !== total) {
    throw new UpframeError(
      'MODEL_INTEGRITY',
      `${entry.path}: ${loaded} bytes instead of the ${total} its manifest states.`,
    );
  }
  return out;
}

async function openCache(): Promise<Cache | null> {
  try {
    return typeof caches === 'undefined' ? null : await caches.open(CACHE_NAME);
  } catch {
    return null; // private windows may refuse storage; loading still works without a cache
  }
}

async function fetchFile(
  base: string,
  entry: PackFile,
  cache: Cache | null,
  onProgress?: (p: LoadProgress) => void,
): Promise<Uint8Array<ArrayBuffer>> {
  const url = new URL(entry.path, base).href;
  // the sha256 in the key means a changed pack never reuses a stale cached file
  const key = `${url}?sha256=${entry.sha256}`;
  const cached = await cache?.match(key);
  if (cached) {
    const bytes = new Uint8Array(await cached.arrayBuffer());
    try {
      await verifyFile(bytes.buffer, entry);
      onProgress?.({ file: entry.path, loaded: entry.bytes, total: entry.bytes });
      return bytes;
    } catch {
      await cache?.delete(key);
    }
  }
  let response: Response;
  try {
    response = await fetch(url);
  } catch (err) {
    throw new UpframeError(
      'MODEL_LOAD_FAILED',
      `${entry.path} could not be downloaded from ${url}: ${String(err)}`,
    );
  }
  if (!response.ok) {
    throw new UpframeError(
      'MODEL_LOAD_FAILED',
      `${entry.path} could not be downloaded (HTTP ${response.status} from ${url}).`,
    );
  }
  const bytes = await readWithProgress(response, entry, onProgress);
  await verifyFile(bytes.buffer, entry);
  await cache?.put(key, new Response(bytes)).catch(() => undefined);
  return bytes;
}

async function loadFromBase(
  base: string,
  onProgress?: (p: LoadProgress) => void,
): Promise<LoadedPack> {
  const manifestUrl = new URL('manifest.json', base).href;
  let json: unknown;
  try {
    const response = await fetch(manifestUrl);
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    json = await response.json();
  } catch (err) {
    throw new UpframeError(
      'MODEL_LOAD_FAILED',
      `The model's manifest.json could not be read from ${manifestUrl}: ${err instanceof Error ? err.message : String(err)}`,
    );
  }
  const manifest = parseManifest(json, base);
  const cache = await openCache();
  const files = new Map<string, Uint8Array>();
  for (const entry of manifest.files)
    files.set(entry.path, await fetchFile(base, entry, cache, onProgress));
  return { manifest, files };
}

async function loadFromFiles(picked: readonly File[]): Promise<LoadedPack> {
  // a picked folder gives paths like "pack/model.onnx"; match on the path relative to manifest.json
  const manifestFile = packManifestFile(picked);
  if (!manifestFile) {
    throw new UpframeError(
      'MODEL_LOAD_FAILED',
      'The chosen folder has no manifest.json: pick the folder of a model pack.',
    );
  }
  const relative = (f: File) => {
    const full = f.webkitRelativePath || f.name;
    const prefix = (manifestFile.webkitRelativePath || 'manifest.json').slice(
      0,
      -'manifest.json'.length,
    );
    return full.startsWith(prefix) ? full.slice(prefix.length) : full;
  };
  let json: unknown;
  try {
    json = JSON.parse(await manifestFile.text());
  } catch (err) {
    throw new UpframeError('MODEL_LOAD_FAILED', `manifest.json is not valid JSON: ${String(err)}`);
  }
  const manifest = parseManifest(json, manifestFile.webkitRelativePath || 'manifest.json');
  const byPath = new Map(picked.map((f) => [relative(f), f]));
  const files = new Map<string, Uint8Array>();
  for (const entry of manifest.files) {
    const file = byPath.get(entry.path);
    if (!file)
      throw new UpframeError(
        'MODEL_LOAD_FAILED',
        `${entry.path} is listed in manifest.json but not in the chosen folder.`,
      );
    const bytes = new Uint8Array(await file.arrayBuffer());
    await verifyFile(bytes.buffer, entry);
    files.set(entry.path, bytes);
  }
  return { manifest, files };
}

export async function loadPack(
  source: PackSource,
  onProgress?: (p: LoadProgress) => void,
): Promise<LoadedPack> {
  switch (source.type) {
    case 'builtin':
      return loadFromBase(
        new URL(`${encodeURIComponent(source.name)}/`, builtinBase()).href,
        onProgress,
      );
    case 'url': {
      if (source.url.trim() === '') {
        throw new UpframeError(
          'MODEL_LOAD_FAILED',
          'No model pack address was given: type the address of the folder that holds its ' +
            'manifest.json, or choose another model.',
        );
      }
      let url: URL;
      try {
        url = new URL(source.url, self.location.href);
      } catch {
        throw new UpframeError('MODEL_LOAD_FAILED', `"${source.url}" is not a valid address.`);
      }
      const path = url.pathname.replace(/manifest\.json$/, '');
      url.pathname = path.endsWith('/') ? path : `${path}/`;
      return loadFromBase(url.href, onProgress);
    }
    case 'files':
      return loadFromFiles(source.files);
  }
}

export function packFile(pack: LoadedPack, role: PackFile['role'] = 'model'): Uint8Array {
  const entry = pack.manifest.files.find((f) => f.role === role);
  const bytes = entry ? pack.files.get(entry.path) : undefined;
  if (!entry || !bytes)
    throw new UpframeError(
      'MODEL_LOAD_FAILED',
      `The pack ${pack.manifest.name} has no ${role} file.`,
    );
  return bytes;
}
