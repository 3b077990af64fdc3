/**
 * Compute pipelines keyed by what is fixed at build time (shader, entry point, override
 * constants). One cache per device; building a pipeline is slow, dispatching one is not.
 */
const caches = new WeakMap<GPUDevice, Map<string, GPUComputePipeline>>();

export interface PipelineSpec {
  readonly label: string;
  readonly code: string;
  readonly entryPoint: string;
  readonly constants?: Readonly<Record<string, number>>;
}

function keyOf(spec: PipelineSpec): string {
  const constants = spec.constants
    ? Object.entries(spec.constants)
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        .map(([k, v]) => `${k}=${v}`)
        .join(',')
    : '';
  return `${spec.label}|${spec.entryPoint}|${constants}|${spec.code.length}|${hashString(spec.code)}`;
}

function hashString(text: string): number {
  let h = 2166136261;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 16777619);
  }
  return h >>> 0;
}

export function getComputePipeline(device: GPUDevice, spec: PipelineSpec): GPUComputePipeline {
  let cache = caches.get(device);
  if (!cache) {
    cache = new Map();
    caches.set(device, cache);
  }
  const key = keyOf(spec);
  let pipeline = cache.get(key);
  if (!pipeline) {
    const module = device.createShaderModule({ label: spec.label, code: spec.code });
    pipeline = device.createComputePipeline({
      layout: 'auto',
      compute: {
        module,
        entryPoint: spec.entryPoint,
        ...(spec.constants ? { constants: { ...spec.constants } } : {}),
      },
    });
    cache.set(key, pipeline);
  }
  return pipeline;
}
