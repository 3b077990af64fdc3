/**
 * Cutting tiles out of planar GPU tensors with buffer copies (no kernel), shared by the tiled
 * pipelines (DLoRAL's latent and VAE tiles, Upframe-lite's generator tiles).
 */

/**
 * Copies a [C, th, tw] window at (x, y) of a planar [C, H, W] buffer into `dst`, starting at
 * channel `dstFirstChannel` of a [*, th, tw] layout: one copy for the whole frame, else one per
 * row and channel.
 */
export function encodeCrop(
  encoder: GPUCommandEncoder,
  src: GPUBuffer,
  size: { width: number; height: number },
  dst: GPUBuffer,
  channels: number,
  win: { x: number; y: number; width: number; height: number },
  dstFirstChannel = 0,
): void {
  if (win.x === 0 && win.width === size.width && win.y === 0 && win.height === size.height) {
    const bytes = channels * size.width * size.height * 4;
    encoder.copyBufferToBuffer(src, 0, dst, dstFirstChannel * win.width * win.height * 4, bytes);
    return;
  }
  for (let c = 0; c < channels; c++)
    for (let j = 0; j < win.height; j++) {
      const from = ((c * size.height + win.y + j) * size.width + win.x) * 4;
      const to = ((dstFirstChannel + c) * win.height + j) * win.width * 4;
      encoder.copyBufferToBuffer(src, from, dst, to, win.width * 4);
    }
}
