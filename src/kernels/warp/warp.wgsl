// warp: backward warp of a planar float32 tensor [C, H, W] by a flow field [2, H, W] (channel 0 =
// dx, channel 1 = dy, in pixels of the target grid), and bilinear resize of a flow field between
// resolutions.
//
// `warp` is DLoRAL's flow_warp: grid = base grid + flow, normalised by max(size - 1, 1), then
// grid_sample(mode='bilinear', padding_mode='zeros', align_corners=True), which unnormalises by
// (size - 1). The round trip through [-1, 1] is kept on purpose so the sample position rounds the
// way PyTorch's does. Each of the four taps outside the input contributes zero (not clamped), so a
// sample half a pixel past the last column gets half of that column's value.
//
// One invocation per output pixel; it computes the four tap weights once and loops over the C
// channels (C = 9 * 64 costs one dispatch, no grid dimension per channel). Workgroup WG_X x WG_Y
// (16 x 16 = 256 invocations, the WebGPU default limit); dispatch ceil(W / WG_X) x ceil(H / WG_Y).
//
// `resize_flow` is F.interpolate(mode='bilinear', align_corners=False) on a [2, h1, w1] flow
// followed by dx *= w2 / w1 and dy *= h2 / h1. Source index = ratio * (dst + 0.5) - 0.5 with
// ratio = in / out, clamped below at 0; the upper tap is clamped to the last row/column (that is
// PyTorch's upsample_bilinear2d). Same workgroup shape, dispatch over the output grid.

override WG_X: u32 = 16u;
override WG_Y: u32 = 16u;

struct WarpParams {
  width: u32,
  height: u32,
  channels: u32,
  _pad: u32,
}

@group(0) @binding(0) var<storage, read> src: array<f32>;
@group(0) @binding(1) var<storage, read> flow: array<f32>;
@group(0) @binding(2) var<storage, read_write> dst: array<f32>;
@group(0) @binding(3) var<uniform> params: WarpParams;

// Sample position on one axis, as flow_warp + grid_sample(align_corners=True) compute it.
fn unnormalise(g: f32, size: u32) -> f32 {
  let n = 2.0 * g / f32(max(size, 2u) - 1u) - 1.0;
  return ((n + 1.0) / 2.0) * f32(size - 1u);
}

@compute @workgroup_size(WG_X, WG_Y)
fn warp(@builtin(global_invocation_id) gid: vec3<u32>) {
  let w = params.width;
  let h = params.height;
  if (gid.x >= w || gid.y >= h) {
    return;
  }
  let plane = w * h;
  let i = gid.y * w + gid.x;
  let ix = unnormalise(f32(gid.x) + flow[i], w);
  let iy = unnormalise(f32(gid.y) + flow[plane + i], h);

  let x0 = floor(ix);
  let y0 = floor(iy);
  let x1 = x0 + 1.0;
  let y1 = y0 + 1.0;
  let w_nw = (x1 - ix) * (y1 - iy);
  let w_ne = (ix - x0) * (y1 - iy);
  let w_sw = (x1 - ix) * (iy - y0);
  let w_se = (ix - x0) * (iy - y0);

  // Bounds are tested in f32 so a huge or NaN flow never reaches an integer conversion.
  let last_x = f32(w - 1u);
  let last_y = f32(h - 1u);
  let in_x0 = x0 >= 0.0 && x0 <= last_x;
  let in_x1 = x1 >= 0.0 && x1 <= last_x;
  let in_y0 = y0 >= 0.0 && y0 <= last_y;
  let in_y1 = y1 >= 0.0 && y1 <= last_y;
  let c0 = select(0u, u32(x0), in_x0);
  let c1 = select(0u, u32(x1), in_x1);
  let r0 = select(0u, u32(y0), in_y0) * w;
  let r1 = select(0u, u32(y1), in_y1) * w;
  let k_nw = select(0.0, w_nw, in_x0 && in_y0);
  let k_ne = select(0.0, w_ne, in_x1 && in_y0);
  let k_sw = select(0.0, w_sw, in_x0 && in_y1);
  let k_se = select(0.0, w_se, in_x1 && in_y1);

  for (var c = 0u; c < params.channels; c++) {
    let base = c * plane;
    var v = 0.0;
    if (k_nw != 0.0) {
      v += src[base + r0 + c0] * k_nw;
    }
    if (k_ne != 0.0) {
      v += src[base + r0 + c1] * k_ne;
    }
    if (k_sw != 0.0) {
      v += src[base + r1 + c0] * k_sw;
    }
    if (k_se != 0.0) {
      v += src[base + r1 + c1] * k_se;
    }
    dst[base + i] = v;
  }
}

struct ResizeParams {
  in_size: vec2<u32>, // w1, h1
  out_size: vec2<u32>, // w2, h2
  ratio: vec2<f32>, // w1 / w2, h1 / h2 (source pixels per output pixel)
  vector_scale: vec2<f32>, // w2 / w1 for dx, h2 / h1 for dy
}

@group(0) @binding(0) var<storage, read> flow_in: array<f32>;
@group(0) @binding(1) var<storage, read_write> flow_out: array<f32>;
@group(0) @binding(2) var<uniform> rparams: ResizeParams;

struct Taps {
  i0: u32,
  i1: u32,
  l0: f32,
  l1: f32,
}

fn taps(dst: u32, in_size: u32, ratio: f32) -> Taps {
  let s = max(ratio * (f32(dst) + 0.5) - 0.5, 0.0);
  let i0 = min(u32(s), in_size - 1u);
  let i1 = i0 + select(0u, 1u, i0 < in_size - 1u);
  let l1 = s - f32(i0);
  return Taps(i0, i1, 1.0 - l1, l1);
}

@compute @workgroup_size(WG_X, WG_Y)
fn resize_flow(@builtin(global_invocation_id) gid: vec3<u32>) {
  let ow = rparams.out_size.x;
  let oh = rparams.out_size.y;
  if (gid.x >= ow || gid.y >= oh) {
    return;
  }
  let iw = rparams.in_size.x;
  let tx = taps(gid.x, iw, rparams.ratio.x);
  let ty = taps(gid.y, rparams.in_size.y, rparams.ratio.y);
  let in_plane = iw * rparams.in_size.y;
  let out_plane = ow * oh;
  for (var c = 0u; c < 2u; c++) {
    let b = c * in_plane;
    let top = tx.l0 * flow_in[b + ty.i0 * iw + tx.i0] + tx.l1 * flow_in[b + ty.i0 * iw + tx.i1];
    let bottom = tx.l0 * flow_in[b + ty.i1 * iw + tx.i0] + tx.l1 * flow_in[b + ty.i1 * iw + tx.i1];
    let v = ty.l0 * top + ty.l1 * bottom;
    flow_out[c * out_plane + gid.y * ow + gid.x] = v * rparams.vector_scale[c];
  }
}
