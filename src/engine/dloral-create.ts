/**
 * Builds a DLoRAL enhancer from a loaded `dloral` pack: the memory plan first (so an adapter
 * that cannot hold the model fails with OUT_OF_MEMORY before anything is loaded onto it), then
 * the ORT sessions at the planned tile sizes (three, or four when the pack ships a SpyNet), then
 * the WebGPU or the wasm pipeline.
 */
import type { EnhancerOptions } from './create-enhancer.ts';
import { CpuTensorEnhancer } from './cpu-frame-io.ts';
import { createDloralSessions, DloralCpuCore } from './dloral-cpu.ts';
import { DloralGpuEnhancer } from './dloral-gpu.ts';
import {
  planDloralMemory,
  readDloralPack,
  type DloralLimits,
  type DloralMemoryPlan,
  type DloralTileOverrides,
} from './dloral-pack.ts';
import type { FrameEnhancer } from './enhancer.ts';
import type { LoadedPack } from './packs.ts';
import { outputModeFor } from './sr-gpu.ts';
import { UpframeError } from '../shared/errors.ts';

export interface DloralOptions extends EnhancerOptions {
  /** Smaller tiles than the plan would choose (tests; a person's tile setting). */
  readonly tiles?: DloralTileOverrides;
  /** Replaces the device's limits in the memory plan (tests use a fake small adapter). */
  readonly limits?: DloralLimits;
}

/** The wasm backend has a 4 GB heap and no binding limit; 1 GiB keeps the same tiling rules. */
const WASM_LIMITS: DloralLimits = {
  maxBufferSize: 2 ** 30,
  maxStorageBufferBindingSize: 2 ** 30,
  memoryBudgetBytes: 3.5 * 2 ** 30,
};

export function dloralPlanFor(pack: LoadedPack, options: DloralOptions): DloralMemoryPlan {
  const limits =
    options.limits ??
    (options.backend === 'webgpu' && options.device
      ? {
          maxBufferSize: options.device.limits.maxBufferSize,
          maxStorageBufferBindingSize: options.device.limits.maxStorageBufferBindingSize,
        }
      : WASM_LIMITS);
  const tiles: DloralTileOverrides = {
    ...(options.tileSize && options.tileSize > 0
      ? { latentTile: Math.max(8, Math.round((options.tileSize * pack.manifest.scale) / 8)) }
      : {}),
    ...options.tiles,
  };
  return planDloralMemory(
    pack.manifest,
    { width: options.width, height: options.height },
    limits,
    tiles,
  );
}

export async function createDloralEnhancer(
  pack: LoadedPack,
  options: DloralOptions,
): Promise<FrameEnhancer> {
  const plan = dloralPlanFor(pack, options);
  const parts = readDloralPack(pack);
  if (options.backend === 'webgpu') {
    if (!options.device)
      throw new UpframeError('INTERNAL', 'Internal error: WebGPU backend without a device.');
    const sessions = await createDloralSessions(parts, {
      backend: 'webgpu',
      device: options.device,
      plan,
    });
    const mode =
      options.outputMode ?? (options.adapterInfo ? outputModeFor(options.adapterInfo) : 'readback');
    return new DloralGpuEnhancer(options.device, pack.manifest.title, parts, sessions, plan, mode);
  }
  const sessions = await createDloralSessions(parts, { backend: 'wasm', plan });
  const core = new DloralCpuCore(parts, sessions, plan);
  return new CpuTensorEnhancer(pack.manifest.title, core, plan.geometry, '-1,1');
}
