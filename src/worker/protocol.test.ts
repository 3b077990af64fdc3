import { describe, expect, it } from 'vitest';
import type { GpuInfo } from '../gpu/device.ts';
import { preferredBackend } from './protocol.ts';

const info = (isFallbackAdapter: boolean): GpuInfo => ({
  vendor: 'google',
  architecture: isFallbackAdapter ? 'swiftshader' : 'gen-12lp',
  device: '',
  description: '',
  isFallbackAdapter,
  features: [],
  limits: {
    maxBufferSize: 2 ** 30,
    maxStorageBufferBindingSize: 2 ** 27,
    maxComputeWorkgroupStorageSize: 16384,
    maxComputeInvocationsPerWorkgroup: 256,
    maxComputeWorkgroupSizeX: 256,
    maxComputeWorkgroupsPerDimension: 65535,
    maxTextureDimension2D: 8192,
    maxStorageBuffersPerShaderStage: 8,
  },
});

describe('preferredBackend', () => {
  it('starts on WebGPU only with a hardware adapter', () => {
    expect(preferredBackend({ available: true, info: info(false) })).toBe('webgpu');
    expect(preferredBackend({ available: true, info: info(true) })).toBe('wasm');
    expect(preferredBackend({ available: false })).toBe('wasm');
  });
});
