/**
 * Builds the enhancer a job needs from a loaded pack: picks the backend's pipeline, the tile plan
 * from the adapter's limits and the pack's hints, and checks the pack's I/O contract.
 */
import { UpframeError } from '../shared/errors.ts';
import type { FrameEnhancer, SrModelSpec } from './enhancer.ts';
import type { PackManifest } from './manifest.ts';
import { Session, type Backend } from './ort.ts';
import { packFile, type LoadedPack } from './packs.ts';
import { SrCpuEnhancer } from './sr-cpu.ts';
import { outputModeFor, SrGpuEnhancer, type OutputMode } from './sr-gpu.ts';
import { chooseTileSize, planTiles } from './tiling.ts';

export interface EnhancerOptions {
  readonly backend: Backend;
  readonly device?: GPUDevice;
  readonly width: number;
  readonly height: number;
  /** Input pixels per tile side; 0 or undefined = automatic. */
  readonly tileSize?: number;
  /** How output frames leave the GPU; by default chosen from the adapter (see sr-gpu.ts). */
  readonly outputMode?: OutputMode;
  readonly adapterInfo?: { architecture: string; isFallbackAdapter: boolean };
  /**
   * Temporal fusion. `sr` packs: fuse each input frame with the previous one by the training-free
   * CFR of temporal-cfr.ts (default false). `lite` packs: false makes the CFR fuse each frame
   * with itself, the "CFR disabled" evaluation (default true).
   */
  readonly temporal?: boolean;
}

export function srSpec(manifest: PackManifest): SrModelSpec {
  const input = manifest.inputs[0];
  const output = manifest.outputs[0];
  if (manifest.kind !== 'sr' || !input || !output) {
    throw new UpframeError(
      'MODEL_LOAD_FAILED',
      `${manifest.name}: not a single-input super-resolution pack.`,
    );
  }
  if (input.layout !== 'NCHW' || output.layout !== 'NCHW' || input.dtype !== 'float32') {
    throw new UpframeError(
      'MODEL_LOAD_FAILED',
      `${manifest.name}: only float32 NCHW models are supported.`,
    );
  }
  return {
    name: manifest.name,
    scale: manifest.scale,
    inputName: input.name,
    outputName: output.name,
    inputRange: input.range,
    outputRange: output.range,
  };
}

/** Tile size from the pack's hints and the device's binding limit. */
export function autoTileSize(
  manifest: PackManifest,
  maxBindingBytes: number,
  backend: Backend,
): number {
  const hints = manifest.tile ?? { multiple: 1, minSize: 16, preferred: 128, overlap: 8 };
  // a conservative guess of the widest activation: 64 channels at the output resolution
  const bytesPerInputPixel = 64 * manifest.scale * manifest.scale * 4;
  return chooseTileSize({
    maxBindingBytes: backend === 'wasm' ? 256 * 1024 * 1024 : maxBindingBytes,
    bytesPerInputPixel,
    preferred: hints.preferred,
    multiple: hints.multiple,
    minSize: hints.minSize,
  });
}

export async function createSrEnhancer(
  pack: LoadedPack,
  options: EnhancerOptions,
): Promise<FrameEnhancer> {
  const spec = srSpec(pack.manifest);
  const maxBinding = options.device?.limits.maxStorageBufferBindingSize ?? 128 * 1024 * 1024;
  const tileSize =
    options.tileSize && options.tileSize > 0
      ? options.tileSize
      : autoTileSize(pack.manifest, maxBinding, options.backend);
  const overlap = Math.min(pack.manifest.tile?.overlap ?? 8, Math.floor(tileSize / 4));
  const plan = planTiles(options.width, options.height, tileSize, overlap);
  const session = await Session.create(packFile(pack), {
    backend: options.backend,
    name: pack.manifest.title,
    ...(options.device ? { device: options.device } : {}),
  });
  if (
    !session.inputNames.includes(spec.inputName) ||
    !session.outputNames.includes(spec.outputName)
  ) {
    await session.release();
    throw new UpframeError(
      'MODEL_LOAD_FAILED',
      `${pack.manifest.name}: the model's tensors do not match its manifest (expected ${spec.inputName} -> ${spec.outputName}).`,
    );
  }
  if (options.backend === 'webgpu') {
    if (!options.device)
      throw new UpframeError('INTERNAL', 'Internal error: WebGPU backend without a device.');
    const mode =
      options.outputMode ?? (options.adapterInfo ? outputModeFor(options.adapterInfo) : 'readback');
    return new SrGpuEnhancer(options.device, session, spec, plan, mode, options.temporal ?? false);
  }
  return new SrCpuEnhancer(session, spec, plan, options.temporal ?? false);
}
