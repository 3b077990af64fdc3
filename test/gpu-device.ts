/**
 * One GPUDevice for kernel tests, wherever they run: in Chromium through navigator.gpu, in Node
 * through the `webgpu` package (Dawn) on Chromium's SwiftShader Vulkan driver.
 */
import { acquireGpu, type AcquiredGpu } from '../src/gpu/device.ts';

const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';
let shared: Promise<AcquiredGpu> | undefined;
// Dawn frees its instance when the GPU object is garbage-collected, even while a device made from
// it lives on (then ProcessEvents locks a freed mutex and the process aborts). Keep it referenced.
let nodeGpuInstance: GPU | undefined;

async function nodeGpu(): Promise<GPU> {
  const fs = await import(/* @vite-ignore */ 'node:fs');
  if (!process.env['VK_ICD_FILENAMES'] && fs.existsSync(SWIFTSHADER_ICD)) {
    process.env['VK_ICD_FILENAMES'] = SWIFTSHADER_ICD;
  }
  const name = 'webgpu';
  const dawn = (await import(/* @vite-ignore */ name)) as {
    create: (flags: string[]) => GPU;
    globals: Record<string, unknown>;
  };
  Object.assign(globalThis, dawn.globals);
  nodeGpuInstance ??= dawn.create([]);
  return nodeGpuInstance;
}

export const inBrowser = typeof window !== 'undefined' && typeof navigator !== 'undefined';

export function testGpu(): Promise<AcquiredGpu> {
  shared ??= (async () => acquireGpu(inBrowser ? navigator.gpu : await nodeGpu()))();
  return shared;
}

export async function testDevice(): Promise<GPUDevice> {
  return (await testGpu()).device;
}

/** Fails the test with the device's own validation message instead of silently zeros. */
export async function withValidation<T>(device: GPUDevice, body: () => Promise<T>): Promise<T> {
  device.pushErrorScope('validation');
  const result = await body();
  const error = await device.popErrorScope();
  if (error) throw new Error(`WebGPU validation error: ${error.message}`);
  return result;
}
