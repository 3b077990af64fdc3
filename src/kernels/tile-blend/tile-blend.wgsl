// tile-blend: feathered blending of model outputs computed on overlapping tiles.
//
// accumulate: one invocation per pixel of a tile's output [C, th, tw]; adds w * value into the
// frame accumulator [C, H, W] at (x0, y0) and w into the weight plane [H, W]. Tiles are encoded
// as separate dispatches, so no two invocations of one dispatch touch the same pixel (no atomics).
// w = max(1e-3, min(1, c/rampL, (tw-c)/rampR)) * (same in y), c = pixel centre; ramp 0 = no ramp.
//
// resolve: out = acc / weight, one invocation per frame pixel. Workgroups are 16 x 16.

override WG: u32 = 16u;
override CHANNELS: u32 = 3u;

struct Params {
  origin: vec2<u32>, // tile position in the frame (output pixels)
  tile: vec2<u32>, // tile output size
  frame: vec2<u32>, // frame output size
  _pad: vec2<u32>,
  ramps: vec4<f32>, // left, right, top, bottom in output pixels
}

@group(0) @binding(0) var<storage, read> tile_in: array<f32>;
@group(0) @binding(1) var<storage, read_write> acc: array<f32>;
@group(0) @binding(2) var<storage, read_write> weight: array<f32>;
@group(0) @binding(3) var<uniform> params: Params;

fn ramp(c: f32, size: f32, a: f32, b: f32) -> f32 {
  var w = 1.0;
  if (a > 0.0) {
    w = min(w, c / a);
  }
  if (b > 0.0) {
    w = min(w, (size - c) / b);
  }
  return max(w, 1e-3);
}

@compute @workgroup_size(WG, WG)
fn accumulate(@builtin(global_invocation_id) gid: vec3<u32>) {
  if (gid.x >= params.tile.x || gid.y >= params.tile.y) {
    return;
  }
  let fx = params.origin.x + gid.x;
  let fy = params.origin.y + gid.y;
  if (fx >= params.frame.x || fy >= params.frame.y) {
    return;
  }
  let w = ramp(f32(gid.x) + 0.5, f32(params.tile.x), params.ramps.x, params.ramps.y) *
    ramp(f32(gid.y) + 0.5, f32(params.tile.y), params.ramps.z, params.ramps.w);
  let tile_plane = params.tile.x * params.tile.y;
  let frame_plane = params.frame.x * params.frame.y;
  let ti = gid.y * params.tile.x + gid.x;
  let fi = fy * params.frame.x + fx;
  for (var c = 0u; c < CHANNELS; c++) {
    acc[c * frame_plane + fi] += w * tile_in[c * tile_plane + ti];
  }
  weight[fi] += w;
}

@group(0) @binding(0) var<storage, read> acc_in: array<f32>;
@group(0) @binding(1) var<storage, read> weight_in: array<f32>;
@group(0) @binding(2) var<storage, read_write> resolved: array<f32>;
@group(0) @binding(3) var<uniform> rparams: Params;

@compute @workgroup_size(WG, WG)
fn resolve(@builtin(global_invocation_id) gid: vec3<u32>) {
  if (gid.x >= rparams.frame.x || gid.y >= rparams.frame.y) {
    return;
  }
  let plane = rparams.frame.x * rparams.frame.y;
  let i = gid.y * rparams.frame.x + gid.x;
  let inv = 1.0 / weight_in[i];
  for (var c = 0u; c < CHANNELS; c++) {
    resolved[c * plane + i] = acc_in[c * plane + i] * inv;
  }
}
