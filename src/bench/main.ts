/**
 * Entry of bench.html. Everything else is loaded lazily: ORT's wasm threads start workers from the
 * URL of the chunk that holds ORT, so that chunk must have no top-level effects (it runs in every
 * one of those workers, where there is no document).
 */
import type { BenchApi } from './api.ts';

declare global {
  interface Window {
    upframeBench?: BenchApi;
  }
}

if (typeof document !== 'undefined') {
  void import('./api.ts').then(({ benchApi }) => {
    window.upframeBench = benchApi;
    document.body.dataset['ready'] = 'true';
  });
}
