// deinterlace: the rule of shared/deinterlace-rows.ts on the RGB of an rgba8unorm frame, one
// frame out for each frame in. The first field's rows are copied (even rows when the top field
// comes first, odd rows when the bottom field does); each row of the other field is rebuilt:
//  - spatial: the mean of the rows above and below along the direction d (0, then -1, then +1:
//    the first of equal scores wins) whose three-pixel neighbourhoods above (x + d - 1 .. + 1)
//    and below (x - d - 1 .. + 1) differ least; columns clamp to the row, and a first or last
//    row with no row beyond it takes its one neighbour for both;
//  - temporal: the mean of this row in the previous and the current frame;
//  - moved: max(|now - before| / 2, (|above now - above before| + |below now - below before|) / 2);
//  - result: spatial clamped to temporal +- moved (no previous frame: spatial).
// Each colour component decides on its own, in integers on the 8-bit values, so the result is
// bit-identical to the CPU rule. Alpha is copied.
//
// Workgroup WG_X x WG_Y (16 x 16); dispatch ceil(W / WG_X) x ceil(H / WG_Y).

override WG_X: u32 = 16u;
override WG_Y: u32 = 16u;

struct Params {
  width: u32,
  height: u32,
  // 0: the first frame (or the first after a reset): spatial only
  has_previous: u32,
  // 1: the bottom field comes first (its odd rows are kept)
  bottom_first: u32,
}

@group(0) @binding(0) var cur: texture_2d<f32>;
@group(0) @binding(1) var prev: texture_2d<f32>;
@group(0) @binding(2) var dst: texture_storage_2d<rgba8unorm, write>;
@group(0) @binding(3) var<uniform> params: Params;

fn load8(t: texture_2d<f32>, x: i32, y: i32) -> vec3<i32> {
  let cx = clamp(x, 0, i32(params.width) - 1);
  return vec3<i32>(round(textureLoad(t, vec2<i32>(cx, y), 0).rgb * 255.0));
}

@compute @workgroup_size(WG_X, WG_Y)
fn deinterlace(@builtin(global_invocation_id) id: vec3<u32>) {
  if (id.x >= params.width || id.y >= params.height) {
    return;
  }
  let x = i32(id.x);
  let y = i32(id.y);
  let here = textureLoad(cur, vec2<i32>(x, y), 0);
  if ((id.y & 1u) == params.bottom_first || params.height < 2u) {
    textureStore(dst, vec2<i32>(x, y), here);
    return;
  }
  let up = select(y + 1, y - 1, y > 0);
  let down = select(up, y + 1, id.y + 1u < params.height);

  var best = vec3<i32>(1 << 20);
  var spatial = vec3<i32>(0);
  for (var k = 0; k < 3; k++) {
    let d = select(select(1, -1, k == 1), 0, k == 0);
    let a = load8(cur, x + d, up);
    let b = load8(cur, x - d, down);
    let score = abs(load8(cur, x + d - 1, up) - load8(cur, x - d - 1, down)) + abs(a - b) +
      abs(load8(cur, x + d + 1, up) - load8(cur, x - d + 1, down));
    let better = score < best;
    best = select(best, score, better);
    spatial = select(spatial, (a + b + vec3<i32>(1)) >> vec3<u32>(1u), better);
  }

  var result = spatial;
  if (params.has_previous != 0u) {
    let now = load8(cur, x, y);
    let before = load8(prev, x, y);
    let temporal = (now + before + vec3<i32>(1)) >> vec3<u32>(1u);
    let around = abs(load8(cur, x, up) - load8(prev, x, up)) +
      abs(load8(cur, x, down) - load8(prev, x, down));
    let moved = max(abs(now - before) >> vec3<u32>(1u), around >> vec3<u32>(1u));
    result = min(max(spatial, temporal - moved), temporal + moved);
  }
  textureStore(dst, vec2<i32>(x, y), vec4<f32>(vec3<f32>(result) / 255.0, here.a));
}
