import { UpframeError } from '../shared/errors.ts';

/** What the UI and benchmarks show about the adapter; plain data, safe to post between threads. */
export interface GpuInfo {
  readonly vendor: string;
  readonly architecture: string;
  readonly device: string;
  readonly description: string;
  readonly isFallbackAdapter: boolean;
  readonly features: readonly string[];
  readonly limits: GpuLimits;
}

export interface GpuLimits {
  readonly maxBufferSize: number;
  readonly maxStorageBufferBindingSize: number;
  readonly maxComputeWorkgroupStorageSize: number;
  readonly maxComputeInvocationsPerWorkgroup: number;
  readonly maxComputeWorkgroupSizeX: number;
  readonly maxComputeWorkgroupsPerDimension: number;
  readonly maxTextureDimension2D: number;
  readonly maxStorageBuffersPerShaderStage: number;
}

export interface AcquiredGpu {
  readonly adapter: GPUAdapter;
  readonly device: GPUDevice;
  readonly info: GpuInfo;
}

const LIMIT_NAMES = [
  'maxBufferSize',
  'maxStorageBufferBindingSize',
  'maxComputeWorkgroupStorageSize',
  'maxComputeInvocationsPerWorkgroup',
  'maxComputeWorkgroupSizeX',
  'maxComputeWorkgroupsPerDimension',
  'maxTextureDimension2D',
  'maxStorageBuffersPerShaderStage',
] as const satisfies readonly (keyof GpuLimits)[];

/** Features we use when present; each has a fallback path when absent. */
const OPTIONAL_FEATURES: readonly GPUFeatureName[] = ['shader-f16', 'timestamp-query'];

export function describeAdapter(adapter: GPUAdapter, limits: GPUSupportedLimits): GpuInfo {
  const info = adapter.info as GPUAdapterInfo | undefined;
  const picked = {} as Record<keyof GpuLimits, number>;
  for (const name of LIMIT_NAMES) picked[name] = limits[name];
  return {
    vendor: info?.vendor ?? '',
    architecture: info?.architecture ?? '',
    device: info?.device ?? '',
    description: info?.description ?? '',
    isFallbackAdapter: Boolean(
      (info as { isFallbackAdapter?: boolean } | undefined)?.isFallbackAdapter ??
      (adapter as { isFallbackAdapter?: boolean }).isFallbackAdapter,
    ),
    features: [...adapter.features].map(String).sort(),
    limits: picked,
  };
}

/**
 * Acquires one adapter and one device for a whole job. The device asks for the adapter's maximum
 * buffer limits (as ORT's WebGPU backend does) so ORT can run on this very device and our own WGSL
 * pipelines can share buffers with it.
 */
export async function acquireGpu(
  gpu: GPU | undefined,
  options: { powerPreference?: GPUPowerPreference } = {},
): Promise<AcquiredGpu> {
  if (!gpu) {
    throw new UpframeError(
      'WEBGPU_UNAVAILABLE',
      'This browser does not offer WebGPU (navigator.gpu is missing).',
    );
  }
  let adapter: GPUAdapter | null;
  try {
    adapter = await gpu.requestAdapter({
      powerPreference: options.powerPreference ?? 'high-performance',
    });
  } catch (err) {
    throw new UpframeError(
      'WEBGPU_UNAVAILABLE',
      `WebGPU refused to give an adapter: ${String(err)}`,
    );
  }
  if (!adapter) {
    throw new UpframeError(
      'WEBGPU_UNAVAILABLE',
      'WebGPU is present but no GPU adapter is available (it may be disabled or blocklisted).',
    );
  }
  const requiredFeatures = OPTIONAL_FEATURES.filter((f) => adapter.features.has(f));
  const requiredLimits: Record<string, number> = {};
  for (const name of [
    'maxBufferSize',
    'maxStorageBufferBindingSize',
    'maxComputeWorkgroupStorageSize',
    'maxComputeInvocationsPerWorkgroup',
    'maxComputeWorkgroupSizeX',
    'maxStorageBuffersPerShaderStage',
  ] as const) {
    requiredLimits[name] = adapter.limits[name];
  }
  let device: GPUDevice;
  try {
    device = await adapter.requestDevice({ requiredFeatures, requiredLimits });
  } catch (err) {
    throw new UpframeError(
      'WEBGPU_UNAVAILABLE',
      `The GPU adapter refused a device: ${String(err)}`,
    );
  }
  return { adapter, device, info: describeAdapter(adapter, device.limits) };
}

let shared: Promise<AcquiredGpu> | null = null;

/**
 * The one device of this page or worker. ORT's WebGPU backend binds itself to the first device a
 * session runs on and cannot move to another, so every job shares this device; after a device
 * loss the worker is restarted (a new realm gets a new device).
 */
/** The shared device if one was acquired (and not lost), without acquiring one. */
export async function peekSharedGpu(): Promise<AcquiredGpu | null> {
  if (!shared) return null;
  try {
    return await shared;
  } catch {
    return null;
  }
}

export function sharedGpu(gpu: GPU | undefined): Promise<AcquiredGpu> {
  shared ??= acquireGpu(gpu).then(
    (acquired) => {
      void acquired.device.lost.then(() => {
        shared = null;
      });
      return acquired;
    },
    (err: unknown) => {
      shared = null;
      throw err;
    },
  );
  return shared;
}
