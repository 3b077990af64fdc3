// temporal-features: the inputs of the training-free Cross-Frame Retrieval that `sr` packs use
// for temporal fusion (src/engine/temporal-cfr.ts holds the CFR weights that read them).
//
// In: `current` [3, H, W] RGB in [0, 1]; `reference` [4, H, W]: the previous fused frame warped
// to the current one (RGB) and the warped validity plane (1 inside, 0 where the warp sampled
// outside the previous frame, bilinear in between).
// Out, planar [8, H, W] each:
//   current features   c = (R, G, B, 1, |c|^2, D, 0, 0)
//   reference features r = (R', G', B', |r|^2 + penalty * (1 - valid), R' - R, G' - G, B' - B, 0)
// D is the variance of BT.601 luma over the 3x3 neighbourhood (edges clamped): large on detail,
// near zero on flat areas. With the weights of temporal-cfr.ts, <Q, K> - tau becomes
// margin - |c - r|^2 - slope * D - penalty * (1 - valid): a colour-distance gate that is strict
// on detail and loose on flat areas, and the value is the temporal difference r - c.
//
// One invocation per pixel, workgroup WG_X x WG_Y, dispatch ceil(W / WG_X) x ceil(H / WG_Y).

override WG_X: u32 = 16u;
override WG_Y: u32 = 16u;

struct Params {
  width: u32,
  height: u32,
  penalty: f32,
  _pad: u32,
}

@group(0) @binding(0) var<storage, read> current: array<f32>;
@group(0) @binding(1) var<storage, read> reference: array<f32>;
@group(0) @binding(2) var<storage, read_write> current_features: array<f32>;
@group(0) @binding(3) var<storage, read_write> reference_features: array<f32>;
@group(0) @binding(4) var<uniform> params: Params;

fn luma(i: u32, plane: u32) -> f32 {
  return 0.299 * current[i] + 0.587 * current[plane + i] + 0.114 * current[2u * plane + i];
}

@compute @workgroup_size(WG_X, WG_Y)
fn features(@builtin(global_invocation_id) gid: vec3<u32>) {
  let w = params.width;
  let h = params.height;
  if (gid.x >= w || gid.y >= h) {
    return;
  }
  let plane = w * h;
  let i = gid.y * w + gid.x;

  var sum = 0.0;
  var sum_sq = 0.0;
  for (var dy = -1; dy <= 1; dy++) {
    let y = u32(clamp(i32(gid.y) + dy, 0, i32(h) - 1));
    for (var dx = -1; dx <= 1; dx++) {
      let x = u32(clamp(i32(gid.x) + dx, 0, i32(w) - 1));
      let v = luma(y * w + x, plane);
      sum += v;
      sum_sq += v * v;
    }
  }
  let mean = sum / 9.0;
  let detail = max(sum_sq / 9.0 - mean * mean, 0.0);

  let c = vec3<f32>(current[i], current[plane + i], current[2u * plane + i]);
  let r = vec3<f32>(reference[i], reference[plane + i], reference[2u * plane + i]);
  let valid = reference[3u * plane + i];

  current_features[i] = c.x;
  current_features[plane + i] = c.y;
  current_features[2u * plane + i] = c.z;
  current_features[3u * plane + i] = 1.0;
  current_features[4u * plane + i] = dot(c, c);
  current_features[5u * plane + i] = detail;
  current_features[6u * plane + i] = 0.0;
  current_features[7u * plane + i] = 0.0;

  reference_features[i] = r.x;
  reference_features[plane + i] = r.y;
  reference_features[2u * plane + i] = r.z;
  reference_features[3u * plane + i] = dot(r, r) + params.penalty * (1.0 - valid);
  reference_features[4u * plane + i] = r.x - c.x;
  reference_features[5u * plane + i] = r.y - c.y;
  reference_features[6u * plane + i] = r.z - c.z;
  reference_features[7u * plane + i] = 0.0;
}
