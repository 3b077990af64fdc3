// adain: DLoRAL's colour fix (StableSR's adain_color_fix). Per channel c of planar [C, H, W]:
//   out = (x - mean(x_c)) / std(x_c) * std(ref_c) + mean(ref_c),  std = sqrt(var_unbiased + eps)
// with statistics over the whole plane, computed on the GPU with no readback in two passes:
//
// 1. `partials`: dispatch (G, C, 2); workgroup (g, c, t) reduces segment g (SEG = ceil(N / G)
//    elements) of channel c of tensor t (0 = content, 1 = reference). Each of the WG = 256
//    threads runs Welford over a strided slice of the segment, then the workgroup merges the 256
//    (count, mean, M2) triples in a shared-memory tree with Chan's formula. Welford/Chan never
//    subtract two large sums, so f32 stays accurate on a 1080p plane (sum-of-squares would not).
// 2. `finalize`: dispatch (C, 2); one workgroup merges the G partials of its (c, t) the same way
//    and stores (mean, std).
// 3. `apply`: dispatch (ceil(N / WG), C); one invocation per output element.
//
// G <= 256 so that `finalize` needs one strided load per thread at most.

override WG: u32 = 256u;

struct Params {
  plane: u32, // N = H * W
  channels: u32,
  groups: u32, // G
  segment: u32, // SEG
  eps: f32,
  _pad0: u32,
  _pad1: u32,
  _pad2: u32,
}

// (count, mean, M2) of a set; count in f32 is exact up to 2^24 elements per plane.
struct Moments {
  n: f32,
  mean: f32,
  m2: f32,
}

@group(0) @binding(0) var<storage, read> content: array<f32>;
@group(0) @binding(1) var<storage, read> reference: array<f32>;
@group(0) @binding(2) var<storage, read_write> partial: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> stats: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read_write> dst: array<f32>;
@group(0) @binding(5) var<uniform> params: Params;

var<workgroup> shared_m: array<vec3<f32>, WG>;

fn merge(a: Moments, b: Moments) -> Moments {
  if (b.n == 0.0) {
    return a;
  }
  if (a.n == 0.0) {
    return b;
  }
  let n = a.n + b.n;
  let delta = b.mean - a.mean;
  let mean = a.mean + delta * (b.n / n);
  let m2 = a.m2 + b.m2 + delta * delta * (a.n * b.n / n);
  return Moments(n, mean, m2);
}

fn tree_merge(lid: u32, own: Moments) -> Moments {
  shared_m[lid] = vec3<f32>(own.n, own.mean, own.m2);
  workgroupBarrier();
  for (var stride = WG / 2u; stride > 0u; stride = stride / 2u) {
    if (lid < stride) {
      let a = shared_m[lid];
      let b = shared_m[lid + stride];
      let m = merge(Moments(a.x, a.y, a.z), Moments(b.x, b.y, b.z));
      shared_m[lid] = vec3<f32>(m.n, m.mean, m.m2);
    }
    workgroupBarrier();
  }
  let r = shared_m[0];
  return Moments(r.x, r.y, r.z);
}

fn load(t: u32, i: u32) -> f32 {
  if (t == 0u) {
    return content[i];
  }
  return reference[i];
}

@compute @workgroup_size(WG)
fn partials(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let g = wid.x;
  let c = wid.y;
  let t = wid.z;
  let start = g * params.segment;
  let end = min(start + params.segment, params.plane);
  let base = c * params.plane;
  var m = Moments(0.0, 0.0, 0.0);
  for (var i = start + lid; i < end; i += WG) {
    let x = load(t, base + i);
    m.n += 1.0;
    let delta = x - m.mean;
    m.mean += delta / m.n;
    m.m2 += delta * (x - m.mean);
  }
  let total = tree_merge(lid, m);
  if (lid == 0u) {
    partial[(t * params.channels + c) * params.groups + g] = vec4<f32>(total.n, total.mean, total.m2, 0.0);
  }
}

@compute @workgroup_size(WG)
fn finalize(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let c = wid.x;
  let t = wid.y;
  var m = Moments(0.0, 0.0, 0.0);
  if (lid < params.groups) {
    let p = partial[(t * params.channels + c) * params.groups + lid];
    m = Moments(p.x, p.y, p.z);
  }
  let total = tree_merge(lid, m);
  if (lid == 0u) {
    // torch.var is unbiased (N - 1); a single-element plane would give NaN there, 0 here
    let variance = total.m2 / max(total.n - 1.0, 1.0);
    stats[t * params.channels + c] = vec4<f32>(total.mean, sqrt(variance + params.eps), 0.0, 0.0);
  }
}

@group(0) @binding(0) var<storage, read> apply_src: array<f32>;
@group(0) @binding(3) var<storage, read> apply_stats: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read_write> apply_dst: array<f32>;
@group(0) @binding(5) var<uniform> apply_params: Params;

@compute @workgroup_size(WG)
fn apply(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.x;
  let c = gid.y;
  if (i >= apply_params.plane) {
    return;
  }
  let own = apply_stats[c];
  let target_stats = apply_stats[apply_params.channels + c];
  let k = c * apply_params.plane + i;
  apply_dst[k] = (apply_src[k] - own.x) / own.y * target_stats.y + target_stats.x;
}
