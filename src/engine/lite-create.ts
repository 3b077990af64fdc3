/**
 * Builds an Upframe-lite enhancer from a loaded `lite` pack: the plan first (so a frame too large
 * for the adapter fails with RESOLUTION_TOO_LARGE before anything is loaded onto it), then the two
 * ORT sessions, then the WebGPU or the wasm pipeline.
 */
import { UpframeError } from '../shared/errors.ts';
import type { EnhancerOptions } from './create-enhancer.ts';
import type { FrameEnhancer } from './enhancer.ts';
import { CpuTensorEnhancer } from './cpu-frame-io.ts';
import { LiteCpuCore } from './lite-cpu.ts';
import { LiteGpuEnhancer } from './lite-gpu.ts';
import {
  createLiteSessions,
  LITE_WASM_LIMITS,
  planLite,
  readLitePack,
  type LiteParts,
  type LitePlan,
} from './lite-pack.ts';
import type { LoadedPack } from './packs.ts';
import { outputModeFor } from './sr-gpu.ts';

/** `temporal` false: CFR fuses each frame with its own features (no flow, no warp). */
export type LiteOptions = EnhancerOptions;

export function litePlanFor(parts: LiteParts, options: LiteOptions): LitePlan {
  const limits =
    options.backend === 'webgpu' && options.device
      ? {
          maxStorageBufferBindingSize: options.device.limits.maxStorageBufferBindingSize,
          maxTextureDimension2D: options.device.limits.maxTextureDimension2D,
        }
      : LITE_WASM_LIMITS;
  return planLite(
    parts,
    { width: options.width, height: options.height },
    limits,
    options.tileSize,
  );
}

export async function createLiteEnhancer(
  pack: LoadedPack,
  options: LiteOptions,
): Promise<FrameEnhancer> {
  const parts = readLitePack(pack);
  const plan = litePlanFor(parts, options);
  const temporal = options.temporal ?? true;
  if (options.backend === 'webgpu') {
    if (!options.device)
      throw new UpframeError('INTERNAL', 'Internal error: WebGPU backend without a device.');
    const sessions = await createLiteSessions(parts, { backend: 'webgpu', device: options.device });
    const mode =
      options.outputMode ?? (options.adapterInfo ? outputModeFor(options.adapterInfo) : 'readback');
    return new LiteGpuEnhancer(options.device, parts, sessions, plan, mode, temporal);
  }
  const sessions = await createLiteSessions(parts, { backend: 'wasm' });
  const core = new LiteCpuCore(parts, sessions, plan, temporal);
  const geometry = {
    inputWidth: plan.width,
    inputHeight: plan.height,
    outputWidth: plan.outputWidth,
    outputHeight: plan.outputHeight,
  };
  return new CpuTensorEnhancer(parts.title, core, geometry, '0,1');
}
