/**
 * Turns the person's model choice into a FrameEnhancer for a clip of a given size, on the chosen
 * backend. The GPU device is the worker's shared one (ORT cannot change device mid-life).
 */
import { createSrEnhancer } from '../engine/create-enhancer.ts';
import { createDloralEnhancer } from '../engine/dloral-create.ts';
import type { FrameEnhancer } from '../engine/enhancer.ts';
import { createLiteEnhancer } from '../engine/lite-create.ts';
import { loadBuiltinIndex, loadPack, type LoadProgress, type PackSource } from '../engine/packs.ts';
import { sharedGpu } from '../gpu/device.ts';
import { UpframeError } from '../shared/errors.ts';
import type { Backend } from './protocol.ts';
import type { ModelChoice } from './settings.ts';

declare const self: DedicatedWorkerGlobalScope;

export async function packSourceFor(model: ModelChoice): Promise<PackSource | null> {
  switch (model.type) {
    case 'none':
      return null;
    case 'default': {
      const index = await loadBuiltinIndex();
      // the default at the largest scale (one default per scale)
      const found =
        [...index.packs].filter((p) => p.default).sort((a, b) => b.scale - a.scale)[0] ??
        index.packs[0];
      if (!found) throw new UpframeError('MODEL_LOAD_FAILED', 'No built-in model is installed.');
      return { type: 'builtin', name: found.name };
    }
    case 'builtin':
      return { type: 'builtin', name: model.name };
    case 'url':
      return { type: 'url', url: model.url };
    case 'files':
      return { type: 'files', files: model.files };
  }
}

export async function createEnhancer(
  model: ModelChoice,
  backend: Backend,
  size: { width: number; height: number },
  tileSize: number,
  temporal: boolean | null,
  onProgress?: (p: LoadProgress) => void,
): Promise<FrameEnhancer | null> {
  // on unless the person turned it off: `npm run eval` shows the training-free CFR of `sr` packs
  // lowers flicker (E*warp) on every clip at the same PSNR (README, "Quality")
  const fusion = { temporal: temporal ?? true };
  const source = await packSourceFor(model);
  if (!source) return null;
  const pack = await loadPack(source, onProgress);
  const expected = model.type === 'url' || model.type === 'files' ? model.scale : undefined;
  if (expected !== undefined && pack.manifest.scale !== expected) {
    // the pack changed since the page read it (a folder rewritten, an address now elsewhere)
    throw new UpframeError(
      'INVALID_OPTION',
      `This model pack upscales by ${pack.manifest.scale}, not by ${expected} as it did when ` +
        'it was chosen: choose it again.',
    );
  }
  if (pack.manifest.kind === 'dloral' || pack.manifest.kind === 'lite') {
    const create = pack.manifest.kind === 'lite' ? createLiteEnhancer : createDloralEnhancer;
    if (backend === 'webgpu') {
      const gpu = await sharedGpu(self.navigator.gpu);
      return create(pack, {
        backend,
        device: gpu.device,
        adapterInfo: gpu.info,
        width: size.width,
        height: size.height,
        tileSize,
        ...fusion,
      });
    }
    return create(pack, {
      backend,
      width: size.width,
      height: size.height,
      tileSize,
      ...fusion,
    });
  }
  if (pack.manifest.kind !== 'sr') {
    throw new UpframeError(
      'MODEL_LOAD_FAILED',
      `${pack.manifest.title} is a "${String(pack.manifest.kind)}" pack, which this version cannot run yet.`,
    );
  }
  if (backend === 'webgpu') {
    const gpu = await sharedGpu(self.navigator.gpu);
    return createSrEnhancer(pack, {
      backend,
      device: gpu.device,
      adapterInfo: gpu.info,
      width: size.width,
      height: size.height,
      tileSize,
      ...fusion,
    });
  }
  return createSrEnhancer(pack, {
    backend,
    width: size.width,
    height: size.height,
    tileSize,
    ...fusion,
  });
}
