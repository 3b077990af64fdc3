// flow: dense optical flow flow(current -> previous) by pyramidal, iterative Lucas-Kanade.
// Output [2, H, W] in pixels (x then y plane), backward-warp convention:
//   previous(x + dx, y + dy) ~ current(x, y)
// i.e. the flow that warps the PREVIOUS frame onto the CURRENT one (what DLoRAL feeds its warp).
//
// Why LK rather than DIS: every pass is a fixed-size, data-independent stencil (no patch search
// with a variable candidate list, no variational solve with many Jacobi sweeps), so a frame is
// about 6 dispatches per level, the GPU and the CPU reference run the very same arithmetic, and the
// 3x3 median after each level (Sun, Roth & Black, "Secrets of optical flow") removes most of the
// outliers that distinguish plain LK from DIS on real footage.
//
// Passes (all 16 x 16 = 256 invocations per workgroup, one invocation per pixel of the level,
// dispatch ceil(w / 16) x ceil(h / 16)):
//   to_gray        [C, H, W] (C = 1 or 3, BT.601 luma) -> level 0 plane
//   downsample     level l - 1 -> level l: separable [1 3 3 1] / 8 around (2x + 0.5) (the
//                  pixel-centre-aligned 2x reduction), edges replicated; w_l = ceil(w_{l-1} / 2)
//   upsample_flow  flow of level l + 1 -> initial flow of level l: bilinear at the pixel-centre
//                  aligned position, values scaled by w_l / w_{l+1} (x) and h_l / h_{l+1} (y)
//   lk_step        one Gauss-Newton step per pixel over a (2R + 1)^2 window with the template
//                  gradients (inverse compositional for translation: the 2x2 normal matrix only
//                  depends on the current frame): solve (G + lambda n I) delta =
//                  sum grad * (T - I(x + d)) over the n window pixels whose match x + d lies inside
//                  the frame, and move d by delta, each component clamped to +-MAX_STEP. lambda
//                  keeps flat or 1-D windows (aperture problem) at the coarser estimate instead of
//                  letting a near-singular G throw them pixels away
//   median         3x3 median of each flow component, edges replicated
// Intensities are in whatever range the input has; lambda is per window pixel in (intensity /
// pixel)^2 units, so it scales with the square of the range.

override WG_X: u32 = 16u;
override WG_Y: u32 = 16u;

const MAX_STEP: f32 = 2.0;

struct Params {
  size: vec2<u32>, // this level: w, h
  finer: vec2<u32>, // level l - 1 (downsample source)
  coarser: vec2<u32>, // level l + 1 (upsample source)
  channels: u32, // to_gray only
  radius: i32, // LK window radius R
  lambda: f32,
  _pad0: u32,
  _pad1: u32,
  _pad2: u32,
}

@group(0) @binding(0) var<uniform> params: Params;

// ---- to_gray --------------------------------------------------------------------------------

@group(0) @binding(1) var<storage, read> frame: array<f32>;
@group(0) @binding(2) var<storage, read_write> gray: array<f32>;

@compute @workgroup_size(WG_X, WG_Y)
fn to_gray(@builtin(global_invocation_id) gid: vec3<u32>) {
  if (gid.x >= params.size.x || gid.y >= params.size.y) {
    return;
  }
  let i = gid.y * params.size.x + gid.x;
  if (params.channels == 1u) {
    gray[i] = frame[i];
    return;
  }
  let plane = params.size.x * params.size.y;
  gray[i] = 0.299 * frame[i] + 0.587 * frame[i + plane] + 0.114 * frame[i + 2u * plane];
}

// ---- downsample -----------------------------------------------------------------------------

@group(0) @binding(3) var<storage, read> fine: array<f32>;
@group(0) @binding(4) var<storage, read_write> coarse: array<f32>;

@compute @workgroup_size(WG_X, WG_Y)
fn downsample(@builtin(global_invocation_id) gid: vec3<u32>) {
  if (gid.x >= params.size.x || gid.y >= params.size.y) {
    return;
  }
  let w = array<f32, 4>(0.125, 0.375, 0.375, 0.125);
  let last = vec2<i32>(params.finer) - vec2<i32>(1, 1);
  let origin = 2 * vec2<i32>(gid.xy) - vec2<i32>(1, 1);
  var acc = 0.0;
  for (var j = 0; j < 4; j++) {
    let row = u32(clamp(origin.y + j, 0, last.y)) * params.finer.x;
    var r = 0.0;
    for (var k = 0; k < 4; k++) {
      r += w[k] * fine[row + u32(clamp(origin.x + k, 0, last.x))];
    }
    acc += w[j] * r;
  }
  coarse[gid.y * params.size.x + gid.x] = acc;
}

// ---- upsample_flow --------------------------------------------------------------------------

@group(0) @binding(5) var<storage, read> flow_coarse: array<f32>;
@group(0) @binding(6) var<storage, read_write> flow_init: array<f32>;

// Bilinear sample of a plane of size `dims` at p, edges replicated.
fn bilinear_coarse(base: u32, dims: vec2<u32>, p: vec2<f32>) -> f32 {
  let last = vec2<f32>(dims) - 1.0;
  let q = clamp(p, vec2<f32>(0.0), last);
  let q0 = floor(q);
  let t = q - q0;
  let i0 = vec2<u32>(q0);
  let i1 = min(i0 + vec2<u32>(1u), dims - vec2<u32>(1u));
  let a = flow_coarse[base + i0.y * dims.x + i0.x];
  let b = flow_coarse[base + i0.y * dims.x + i1.x];
  let c = flow_coarse[base + i1.y * dims.x + i0.x];
  let d = flow_coarse[base + i1.y * dims.x + i1.x];
  return mix(mix(a, b, t.x), mix(c, d, t.x), t.y);
}

@compute @workgroup_size(WG_X, WG_Y)
fn upsample_flow(@builtin(global_invocation_id) gid: vec3<u32>) {
  if (gid.x >= params.size.x || gid.y >= params.size.y) {
    return;
  }
  let ratio = vec2<f32>(params.coarser) / vec2<f32>(params.size);
  let p = (vec2<f32>(gid.xy) + 0.5) * ratio - 0.5;
  let cplane = params.coarser.x * params.coarser.y;
  let plane = params.size.x * params.size.y;
  let i = gid.y * params.size.x + gid.x;
  flow_init[i] = bilinear_coarse(0u, params.coarser, p) / ratio.x;
  flow_init[i + plane] = bilinear_coarse(cplane, params.coarser, p) / ratio.y;
}

// ---- lk_step --------------------------------------------------------------------------------

@group(0) @binding(7) var<storage, read> current: array<f32>;
@group(0) @binding(8) var<storage, read> previous: array<f32>;
@group(0) @binding(9) var<storage, read> flow_in: array<f32>;
@group(0) @binding(10) var<storage, read_write> flow_out: array<f32>;

fn cur_at(p: vec2<i32>) -> f32 {
  let q = clamp(p, vec2<i32>(0), vec2<i32>(params.size) - vec2<i32>(1));
  return current[u32(q.y) * params.size.x + u32(q.x)];
}

fn prev_bilinear(p: vec2<f32>) -> f32 {
  let dims = params.size;
  let q = clamp(p, vec2<f32>(0.0), vec2<f32>(dims) - 1.0);
  let q0 = floor(q);
  let t = q - q0;
  let i0 = vec2<u32>(q0);
  let i1 = min(i0 + vec2<u32>(1u), dims - vec2<u32>(1u));
  let a = previous[i0.y * dims.x + i0.x];
  let b = previous[i0.y * dims.x + i1.x];
  let c = previous[i1.y * dims.x + i0.x];
  let d = previous[i1.y * dims.x + i1.x];
  return mix(mix(a, b, t.x), mix(c, d, t.x), t.y);
}

@compute @workgroup_size(WG_X, WG_Y)
fn lk_step(@builtin(global_invocation_id) gid: vec3<u32>) {
  if (gid.x >= params.size.x || gid.y >= params.size.y) {
    return;
  }
  let plane = params.size.x * params.size.y;
  let i = gid.y * params.size.x + gid.x;
  let d = vec2<f32>(flow_in[i], flow_in[i + plane]);
  let centre = vec2<i32>(gid.xy);
  let r = params.radius;
  var gxx = 0.0;
  var gxy = 0.0;
  var gyy = 0.0;
  var bx = 0.0;
  var by = 0.0;
  var count = 0.0;
  let last = vec2<f32>(params.size) - 1.0;
  for (var dy = -r; dy <= r; dy++) {
    for (var dx = -r; dx <= r; dx++) {
      let q = centre + vec2<i32>(dx, dy);
      let p = vec2<f32>(q) + d;
      // window pixels off the frame, or whose match falls off the previous frame, carry no
      // information (clamped samples would pull the flow towards zero at the borders)
      if (any(q < vec2<i32>(0)) || any(q > vec2<i32>(params.size) - vec2<i32>(1)) ||
          any(p < vec2<f32>(0.0)) || any(p > last)) {
        continue;
      }
      count += 1.0;
      let gx = 0.5 * (cur_at(q + vec2<i32>(1, 0)) - cur_at(q - vec2<i32>(1, 0)));
      let gy = 0.5 * (cur_at(q + vec2<i32>(0, 1)) - cur_at(q - vec2<i32>(0, 1)));
      let e = cur_at(q) - prev_bilinear(p);
      gxx += gx * gx;
      gxy += gx * gy;
      gyy += gy * gy;
      bx += gx * e;
      by += gy * e;
    }
  }
  let a = gxx + params.lambda * count;
  let c = gyy + params.lambda * count;
  let det = a * c - gxy * gxy;
  var step = vec2<f32>(0.0);
  if (det > 0.0) {
    step = vec2<f32>(c * bx - gxy * by, a * by - gxy * bx) / det;
  }
  step = clamp(step, vec2<f32>(-MAX_STEP), vec2<f32>(MAX_STEP));
  flow_out[i] = d.x + step.x;
  flow_out[i + plane] = d.y + step.y;
}

// ---- median ---------------------------------------------------------------------------------

@group(0) @binding(11) var<storage, read> median_in: array<f32>;
@group(0) @binding(12) var<storage, read_write> median_out: array<f32>;

fn sort2(a: ptr<function, array<f32, 9>>, i: u32, j: u32) {
  let x = (*a)[i];
  let y = (*a)[j];
  (*a)[i] = min(x, y);
  (*a)[j] = max(x, y);
}

@compute @workgroup_size(WG_X, WG_Y)
fn median(@builtin(global_invocation_id) gid: vec3<u32>) {
  if (gid.x >= params.size.x || gid.y >= params.size.y) {
    return;
  }
  let plane = params.size.x * params.size.y;
  let last = vec2<i32>(params.size) - vec2<i32>(1);
  for (var comp = 0u; comp < 2u; comp++) {
    var v: array<f32, 9>;
    for (var j = 0; j < 3; j++) {
      for (var k = 0; k < 3; k++) {
        let q = clamp(vec2<i32>(gid.xy) + vec2<i32>(k - 1, j - 1), vec2<i32>(0), last);
        v[j * 3 + k] = median_in[comp * plane + u32(q.y) * params.size.x + u32(q.x)];
      }
    }
    // Paeth's 19-exchange median-of-9 network
    sort2(&v, 1u, 2u); sort2(&v, 4u, 5u); sort2(&v, 7u, 8u);
    sort2(&v, 0u, 1u); sort2(&v, 3u, 4u); sort2(&v, 6u, 7u);
    sort2(&v, 1u, 2u); sort2(&v, 4u, 5u); sort2(&v, 7u, 8u);
    sort2(&v, 0u, 3u); sort2(&v, 5u, 8u); sort2(&v, 4u, 7u);
    sort2(&v, 3u, 6u); sort2(&v, 1u, 4u); sort2(&v, 2u, 5u);
    sort2(&v, 4u, 7u); sort2(&v, 4u, 2u); sort2(&v, 6u, 4u);
    sort2(&v, 4u, 2u);
    median_out[comp * plane + gid.y * params.size.x + gid.x] = v[4];
  }
}
