// latent-blend: DLoRAL's tiled CFR + UNet blend. accumulate_diff adds w * (a - b) of one tile
// [C, th, tw] into the frame accumulator acc [C, H, W] at origin, and w into weight [H, W], with w
// read from a [th, tw] weight map (the released Gaussian tile weights). Blending a - b directly is
// the same as blending a and b apart and subtracting, as both divide by the same summed weights.
// One invocation per tile pixel in 16 x 16 workgroups; every tile is its own dispatch, so no two
// invocations of a dispatch touch the same frame pixel (no atomics). The division is tile-blend's
// resolve.

override WG: u32 = 16u;
override CHANNELS: u32 = 4u;

struct Params {
  origin: vec2<u32>,
  tile: vec2<u32>,
  frame: vec2<u32>,
  _pad: vec2<u32>,
}

@group(0) @binding(0) var<storage, read> a: array<f32>;
@group(0) @binding(1) var<storage, read> b: array<f32>;
@group(0) @binding(2) var<storage, read> weights: array<f32>;
@group(0) @binding(3) var<storage, read_write> acc: array<f32>;
@group(0) @binding(4) var<storage, read_write> weight: array<f32>;
@group(0) @binding(5) var<uniform> params: Params;

@compute @workgroup_size(WG, WG)
fn accumulate_diff(@builtin(global_invocation_id) gid: vec3<u32>) {
  if (gid.x >= params.tile.x || gid.y >= params.tile.y) {
    return;
  }
  let fx = params.origin.x + gid.x;
  let fy = params.origin.y + gid.y;
  if (fx >= params.frame.x || fy >= params.frame.y) {
    return;
  }
  let tile_plane = params.tile.x * params.tile.y;
  let frame_plane = params.frame.x * params.frame.y;
  let ti = gid.y * params.tile.x + gid.x;
  let fi = fy * params.frame.x + fx;
  let w = weights[ti];
  for (var c = 0u; c < CHANNELS; c++) {
    let d = a[c * tile_plane + ti] - b[c * tile_plane + ti];
    acc[c * frame_plane + fi] += w * d;
  }
  weight[fi] += w;
}
