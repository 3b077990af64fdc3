/**
 * The frame inputs of the pipelines read a frame with non-square pixels at its own size: every
 * column, none resampled (a VideoFrame draws and becomes an ImageBitmap at its display size).
 */
import { describe, expect, it } from 'vitest';
import { testDevice } from '../../test/gpu-device.ts';
import { readFloat32 } from '../gpu/readback.ts';
import { prepareToTensor } from '../kernels/frame-tensor/frame-tensor.ts';
import { CpuFrameInput } from './cpu-frame-io.ts';
import { FrameInput } from './frame-io.ts';

const [W, H] = [6, 4];

/** Every pixel different, so a cut-off or resampled column shows. */
function anamorphic(): { frame: VideoFrame; rgba: Uint8Array<ArrayBuffer> } {
  const rgba = new Uint8Array(W * H * 4);
  for (let i = 0; i < W * H; i++)
    rgba.set([40 * (i % W), 60 * Math.floor(i / W), 7 * i, 255], i * 4);
  // 3:2 pixels: shown 9 wide
  const frame = new VideoFrame(rgba, {
    format: 'RGBA',
    codedWidth: W,
    codedHeight: H,
    displayWidth: 9,
    displayHeight: H,
    timestamp: 0,
  });
  return { frame, rgba };
}

describe('frame inputs (browser)', () => {
  it('a frame with non-square pixels goes onto the GPU column for column', async () => {
    const device = await testDevice();
    const { frame, rgba } = anamorphic();
    // the cause: the bitmap of the frame itself is its display size
    const bitmap = await createImageBitmap(frame);
    expect(bitmap.width).toBe(9);
    bitmap.close();
    const input = new FrameInput(device, W, H);
    await input.upload(frame);
    // read as the pipelines read it: through the frame-tensor kernel, planar RGB
    const tensor = device.createBuffer({
      size: 3 * W * H * 4,
      usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC,
    });
    const read = prepareToTensor(device, input.texture, tensor, {
      region: { x: 0, y: 0, width: W, height: H },
      range: '0,255',
    });
    const encoder = device.createCommandEncoder();
    read.encode(encoder);
    device.queue.submit([encoder.finish()]);
    const planes = await readFloat32(device, tensor, 3 * W * H);
    const expected = Float32Array.from({ length: 3 * W * H }, (_, k) => {
      const [c, i] = [Math.floor(k / (W * H)), k % (W * H)];
      return rgba[i * 4 + c]!;
    });
    expect(Array.from(planes, Math.round)).toEqual(Array.from(expected));
    read.destroy();
    tensor.destroy();
    input.destroy();
    frame.close();
  });

  it('and into the wasm pipelines column for column', () => {
    const { frame, rgba } = anamorphic();
    expect(new CpuFrameInput(W, H).pixels(frame)).toEqual(rgba);
    frame.close();
  });
});
