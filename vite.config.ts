import { defineConfig, type Plugin } from 'vite';
import react from '@vitejs/plugin-react';
import { createReadStream, existsSync, statSync } from 'node:fs';
import { extname, resolve, sep } from 'node:path';

// crossOriginIsolated is required for ORT's threaded wasm and for SharedArrayBuffer; both the dev
// server and the preview server send the same headers as scripts/serve.mjs.
const isolationHeaders = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
  'Cross-Origin-Resource-Policy': 'same-origin',
};

/**
 * The dev server serves the model packs at /packs/ from models/packs, as the build copies them
 * into dist/ (made by `npm run build`; without them the page offers no built-in model).
 */
function devPacks(): Plugin {
  const root = resolve(import.meta.dirname, 'models', 'packs');
  const types: Record<string, string> = {
    '.json': 'application/json',
    '.onnx': 'application/octet-stream',
  };
  return {
    name: 'upframe-dev-packs',
    configureServer(server) {
      server.middlewares.use('/packs', (req, res, next) => {
        const path = resolve(root, `.${decodeURIComponent((req.url ?? '/').split('?')[0]!)}`);
        if (!path.startsWith(root + sep) || !existsSync(path) || !statSync(path).isFile()) {
          next();
          return;
        }
        res.setHeader('Content-Type', types[extname(path)] ?? 'application/octet-stream');
        for (const [k, v] of Object.entries(isolationHeaders)) res.setHeader(k, v);
        createReadStream(path).pipe(res);
      });
    },
  };
}

export default defineConfig({
  plugins: [react(), devPacks()],
  server: { headers: isolationHeaders },
  preview: { headers: isolationHeaders },
  worker: { format: 'es' },
  build: {
    target: 'es2022',
    chunkSizeWarningLimit: 30_000,
    rollupOptions: {
      input: {
        main: resolve(import.meta.dirname, 'index.html'),
        harness: resolve(import.meta.dirname, 'harness.html'),
        bench: resolve(import.meta.dirname, 'bench.html'),
      },
    },
  },
});
