// bicubic: planar float32 [C, H, W] -> [C, H2, W2], the same numbers as PyTorch
// F.interpolate(mode='bicubic', align_corners=False, antialias=False).
//
// One invocation per output pixel and channel; workgroup WG_X x WG_Y (16 x 16 = 256). Dispatch
// ceil(W2 / WG_X) x ceil(H2 / WG_Y) x C. Each output reads a 4 x 4 neighbourhood: rows are
// interpolated along x first, then the four row results along y (PyTorch's order).
//
// Source coordinate: s = (x + 0.5) * scale - 0.5 with scale = in / out (or 1 / scale_factor when
// the caller gives one), NOT clamped at 0 for cubic; i0 = floor(s), t = s - i0; taps i0-1 .. i0+2
// clamped to [0, in - 1] (PyTorch clamps indices, which is replicate padding). Keys' cubic
// convolution with a = -0.75 (PyTorch's choice, sharper than a = -0.5). No output clamp: values
// may overshoot the input range.

override WG_X: u32 = 16u;
override WG_Y: u32 = 16u;

const A: f32 = -0.75;

struct Params {
  in_size: vec2<u32>, // W, H
  out_size: vec2<u32>, // W2, H2
  scale: vec2<f32>, // source pixels per output pixel, x and y
  channels: u32,
  _pad: u32,
}

@group(0) @binding(0) var<storage, read> src: array<f32>;
@group(0) @binding(1) var<storage, read_write> dst: array<f32>;
@group(0) @binding(2) var<uniform> params: Params;

// |d| <= 1 and 1 < |d| < 2 branches of the kernel, written as PyTorch's cubic_convolution1/2.
fn conv1(d: f32) -> f32 {
  return ((A + 2.0) * d - (A + 3.0)) * d * d + 1.0;
}

fn conv2(d: f32) -> f32 {
  return ((A * d - 5.0 * A) * d + 8.0 * A) * d - 4.0 * A;
}

fn weights(t: f32) -> vec4<f32> {
  return vec4<f32>(conv2(t + 1.0), conv1(t), conv1(1.0 - t), conv2(2.0 - t));
}

@compute @workgroup_size(WG_X, WG_Y)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  if (gid.x >= params.out_size.x || gid.y >= params.out_size.y || gid.z >= params.channels) {
    return;
  }
  let s = (vec2<f32>(gid.xy) + 0.5) * params.scale - 0.5;
  let base = floor(s);
  let wx = weights(s.x - base.x);
  let wy = weights(s.y - base.y);
  let i0 = vec2<i32>(base);
  let last = vec2<i32>(params.in_size) - vec2<i32>(1, 1);
  let plane = params.in_size.x * params.in_size.y;
  let offset = gid.z * plane;
  var xs: array<u32, 4>;
  for (var k = 0; k < 4; k++) {
    xs[k] = u32(clamp(i0.x - 1 + k, 0, last.x));
  }
  var acc = 0.0;
  for (var j = 0; j < 4; j++) {
    let row = offset + u32(clamp(i0.y - 1 + j, 0, last.y)) * params.in_size.x;
    let r = src[row + xs[0]] * wx.x + src[row + xs[1]] * wx.y + src[row + xs[2]] * wx.z +
      src[row + xs[3]] * wx.w;
    acc += r * wy[j];
  }
  dst[(gid.z * params.out_size.y + gid.y) * params.out_size.x + gid.x] = acc;
}
