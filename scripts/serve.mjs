#!/usr/bin/env node
// Serves the production build (dist/) on localhost with the cross-origin isolation headers that
// ORT's threaded wasm needs, and prints the URL. Used by `npm start`, the e2e tests and the
// enhance/bench commands (they import startServer).
import { createServer } from 'node:http';
import { createReadStream, existsSync, statSync } from 'node:fs';
import { extname, join, normalize, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)));

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.wasm': 'application/wasm',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.onnx': 'application/octet-stream',
  '.bin': 'application/octet-stream',
  '.mp4': 'video/mp4',
  '.webm': 'video/webm',
  '.txt': 'text/plain; charset=utf-8',
};

const HEADERS = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
  'Cross-Origin-Resource-Policy': 'same-origin',
  'X-Content-Type-Options': 'nosniff',
};

/**
 * @param {{ port?: number, host?: string, dir?: string, quiet?: boolean, mounts?: Record<string, string> }} [options]
 *   `mounts` maps URL prefixes (like "/user-pack/") to extra folders, e.g. a model pack on disk.
 * @returns {Promise<{ url: string, close: () => Promise<void> }>}
 */
export function startServer(options = {}) {
  const dir = resolve(options.dir ?? join(ROOT, 'dist'));
  const host = options.host ?? '127.0.0.1';
  if (!existsSync(join(dir, 'index.html'))) {
    throw new Error(`No build in ${dir}: run "npm run build" first.`);
  }
  const mounts = Object.entries(options.mounts ?? {}).map(([prefix, folder]) => [
    prefix,
    resolve(folder),
  ]);
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    let path = decodeURIComponent(url.pathname);
    let base = dir;
    for (const [prefix, folder] of mounts) {
      if (path.startsWith(prefix)) {
        base = folder;
        path = `/${path.slice(prefix.length)}`;
        break;
      }
    }
    if (path.endsWith('/')) path += 'index.html';
    const file = normalize(join(base, path));
    if (!file.startsWith(base + sep) || !existsSync(file) || !statSync(file).isFile()) {
      res.writeHead(404, { ...HEADERS, 'Content-Type': 'text/plain' });
      res.end('Not found');
      return;
    }
    const type = TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream';
    const cache = path.startsWith('/assets/') ? 'public, max-age=31536000, immutable' : 'no-cache';
    res.writeHead(200, {
      ...HEADERS,
      'Content-Type': type,
      'Content-Length': statSync(file).size,
      'Cache-Control': cache,
    });
    createReadStream(file).pipe(res);
  });
  return new Promise((resolvePromise, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : options.port;
      const url = `http://localhost:${port}/`;
      if (!options.quiet) console.log(`Upframe is running at ${url}  (Ctrl+C to stop)`);
      resolvePromise({
        url,
        close: () => new Promise((done) => server.close(() => done())),
      });
    });
  });
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const portArg = process.argv.indexOf('--port');
  // an explicit --port (the e2e server's) wins over a PORT the environment happens to carry
  const port = Number(portArg > 0 ? process.argv[portArg + 1] : (process.env.PORT ?? 4173));
  startServer({ port }).catch((err) => {
    console.error(String(err instanceof Error ? err.message : err));
    process.exit(1);
  });
}
