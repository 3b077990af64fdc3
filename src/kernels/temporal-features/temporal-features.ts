/**
 * Descriptor of the temporal-features kernel (see temporal-features.wgsl): builds the current
 * and reference feature tensors [8, H, W] the training-free CFR of `sr` packs reads.
 */
import { getComputePipeline } from '../../gpu/pipeline-cache.ts';
import { UpframeError } from '../../shared/errors.ts';
import shader from './temporal-features.wgsl?raw';

/** Channels of each feature tensor (the CFR's inChannels). */
export const TEMPORAL_FEATURE_CHANNELS = 8;

const WG_X = 16;
const WG_Y = 16;
const PARAMS_BYTES = 16;

export interface TemporalFeatureParams {
  readonly width: number;
  readonly height: number;
  /** Added to |r|^2 where the warped reference is invalid (outside the previous frame). */
  readonly penalty: number;
}

export interface PreparedTemporalFeatures {
  encode(encoder: GPUCommandEncoder): void;
  destroy(): void;
}

/**
 * `current` [3, H, W], `reference` [4, H, W] (RGB + validity); `currentFeatures` and
 * `referenceFeatures` receive [8, H, W]. All STORAGE buffers; outputs must not alias inputs.
 */
export function prepareTemporalFeatures(
  device: GPUDevice,
  resources: {
    current: GPUBuffer;
    reference: GPUBuffer;
    currentFeatures: GPUBuffer;
    referenceFeatures: GPUBuffer;
  },
  params: TemporalFeatureParams,
): PreparedTemporalFeatures {
  const { width, height, penalty } = params;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new UpframeError(
      'INVALID_OPTION',
      `temporal-features: size ${width}x${height} is not valid.`,
    );
  }
  if (!Number.isFinite(penalty) || penalty < 0) {
    throw new UpframeError('INVALID_OPTION', `temporal-features: penalty ${penalty} is not valid.`);
  }
  const pipeline = getComputePipeline(device, {
    label: 'temporal-features',
    code: shader,
    entryPoint: 'features',
    constants: { WG_X, WG_Y },
  });
  const uniform = device.createBuffer({
    label: 'temporal-features.params',
    size: PARAMS_BYTES,
    usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST,
  });
  const data = new ArrayBuffer(PARAMS_BYTES);
  new Uint32Array(data, 0, 2).set([width, height]);
  new Float32Array(data, 8, 1)[0] = penalty;
  device.queue.writeBuffer(uniform, 0, data);
  const bindGroup = device.createBindGroup({
    label: 'temporal-features',
    layout: pipeline.getBindGroupLayout(0),
    entries: [
      { binding: 0, resource: { buffer: resources.current } },
      { binding: 1, resource: { buffer: resources.reference } },
      { binding: 2, resource: { buffer: resources.currentFeatures } },
      { binding: 3, resource: { buffer: resources.referenceFeatures } },
      { binding: 4, resource: { buffer: uniform } },
    ],
  });
  return {
    encode(encoder) {
      const pass = encoder.beginComputePass({ label: 'temporal-features' });
      pass.setPipeline(pipeline);
      pass.setBindGroup(0, bindGroup);
      pass.dispatchWorkgroups(Math.ceil(width / WG_X), Math.ceil(height / WG_Y));
      pass.end();
    },
    destroy() {
      uniform.destroy();
    },
  };
}
