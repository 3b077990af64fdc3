// frame-tensor: RGBA8 texture <-> planar NCHW float32 tensor (N = 1, C = 3: R, G, B; alpha is
// dropped on the way in and written as 1 on the way out).
//
// One invocation per pixel of the region; workgroup WG_X x WG_Y (16 x 16 = 256, the WebGPU
// default invocation limit). Dispatch ceil(w / WG_X) x ceil(h / WG_Y). The region may hang over
// the texture: reads clamp to the edge (replicate padding, what SR models expect at borders),
// writes outside the texture are skipped.
//
// Mapping: tensor = texel * scale + offset, texel in [0, 1]; the inverse clamps to [0, 1] and
// rounds half up to the nearest of the 256 levels before the unorm store.

override WG_X: u32 = 16u;
override WG_Y: u32 = 16u;

struct Params {
  origin: vec2<i32>, // top-left of the region in texture pixels (may be negative)
  size: vec2<u32>, // region = tensor width, height
  scale: f32,
  offset: f32,
  base: u32, // first element of the tensor in the buffer (batch or channel offset)
  _pad: u32,
}

@group(0) @binding(0) var src_tex: texture_2d<f32>;
@group(0) @binding(1) var<storage, read_write> dst_tensor: array<f32>;
@group(0) @binding(2) var<uniform> params: Params;

@compute @workgroup_size(WG_X, WG_Y)
fn to_tensor(@builtin(global_invocation_id) gid: vec3<u32>) {
  if (gid.x >= params.size.x || gid.y >= params.size.y) {
    return;
  }
  let dims = vec2<i32>(textureDimensions(src_tex));
  let p = clamp(params.origin + vec2<i32>(gid.xy), vec2<i32>(0, 0), dims - vec2<i32>(1, 1));
  let texel = textureLoad(src_tex, p, 0);
  let plane = params.size.x * params.size.y;
  let i = params.base + gid.y * params.size.x + gid.x;
  dst_tensor[i] = texel.r * params.scale + params.offset;
  dst_tensor[i + plane] = texel.g * params.scale + params.offset;
  dst_tensor[i + 2u * plane] = texel.b * params.scale + params.offset;
}

@group(0) @binding(0) var<storage, read> src_tensor: array<f32>;
@group(0) @binding(1) var dst_tex: texture_storage_2d<rgba8unorm, write>;
@group(0) @binding(3) var<uniform> out_params: Params;

fn quantize(v: f32) -> f32 {
  let unit = clamp((v - out_params.offset) / out_params.scale, 0.0, 1.0);
  return floor(unit * 255.0 + 0.5) / 255.0;
}

@compute @workgroup_size(WG_X, WG_Y)
fn from_tensor(@builtin(global_invocation_id) gid: vec3<u32>) {
  if (gid.x >= out_params.size.x || gid.y >= out_params.size.y) {
    return;
  }
  let p = out_params.origin + vec2<i32>(gid.xy);
  let dims = vec2<i32>(textureDimensions(dst_tex));
  if (p.x < 0 || p.y < 0 || p.x >= dims.x || p.y >= dims.y) {
    return;
  }
  let plane = out_params.size.x * out_params.size.y;
  let i = out_params.base + gid.y * out_params.size.x + gid.x;
  let rgb = vec3<f32>(
    quantize(src_tensor[i]),
    quantize(src_tensor[i + plane]),
    quantize(src_tensor[i + 2u * plane]),
  );
  textureStore(dst_tex, p, vec4<f32>(rgb, 1.0));
}
