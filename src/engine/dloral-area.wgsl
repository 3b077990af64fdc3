// dloral-area: area-average resize of a planar [C, H, W] f32 tensor to [C, h, w] with h <= H and
// w <= W, the frame shrunk to one VAE tile for the GroupNorm statistics pass. Output pixel (x, y)
// covers input [x * sx, (x + 1) * sx) x [y * sy, (y + 1) * sy) (sx = W / w, sy = H / h); input
// pixels count with the fraction of them inside, so the mean of the frame is kept.
// One invocation per output pixel, all channels; workgroups are WG x WG; an input pixel is read by
// at most 4 invocations (a cover never spans more than ceil(s) + 1 pixels per axis).

override WG: u32 = 16u;
override CHANNELS: u32 = 3u;

struct Params {
  in_size: vec2<u32>,
  out_size: vec2<u32>,
  step: vec2<f32>, // sx, sy
}

@group(0) @binding(0) var<storage, read> src: array<f32>;
@group(0) @binding(1) var<storage, read_write> dst: array<f32>;
@group(0) @binding(2) var<uniform> params: Params;

// Part of input pixel i inside [lo, hi).
fn cover(i: u32, lo: f32, hi: f32) -> f32 {
  return max(min(f32(i + 1u), hi) - max(f32(i), lo), 0.0);
}

@compute @workgroup_size(WG, WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let in_w = params.in_size.x;
  let in_h = params.in_size.y;
  if (gid.x >= params.out_size.x || gid.y >= params.out_size.y) {
    return;
  }
  let x0 = f32(gid.x) * params.step.x;
  let x1 = min(f32(gid.x + 1u) * params.step.x, f32(in_w));
  let y0 = f32(gid.y) * params.step.y;
  let y1 = min(f32(gid.y + 1u) * params.step.y, f32(in_h));
  let i0 = u32(floor(x0));
  let i1 = min(u32(ceil(x1)), in_w);
  let j0 = u32(floor(y0));
  let j1 = min(u32(ceil(y1)), in_h);
  var wx = 0.0;
  for (var i = i0; i < i1; i++) {
    wx += cover(i, x0, x1);
  }
  var wy = 0.0;
  for (var j = j0; j < j1; j++) {
    wy += cover(j, y0, y1);
  }
  let norm = wx * wy;
  for (var c = 0u; c < CHANNELS; c++) {
    var total = 0.0;
    for (var j = j0; j < j1; j++) {
      var row = 0.0;
      let base = (c * in_h + j) * in_w;
      for (var i = i0; i < i1; i++) {
        row += cover(i, x0, x1) * src[base + i];
      }
      total += cover(j, y0, y1) * row;
    }
    dst[(c * params.out_size.y + gid.y) * params.out_size.x + gid.x] = total / norm;
  }
}

// moments: per channel mean and std (unbiased, as torch.std_mean) of a planar [C, plane] tensor,
// written to stats[(slot * C + c) * 2 + {0, 1}]. One workgroup of 256 per channel; two passes
// over the plane (mean, then centred squares) so f32 keeps its precision on large frames.
//
// renorm: the shrunk tensor (slot 1) given the frame's (slot 0) per-channel mean and std, in
// place, one invocation per element: shrinking averages texture away, and the released Tiled VAE
// restores the std before estimating GroupNorm statistics on the shrunk frame.

const RWG: u32 = 256u;

struct Plane {
  plane: u32,
  channels: u32,
  slot: u32,
  row: u32, // renorm: workgroups per dispatch row
}

@group(0) @binding(3) var<storage, read> m_data: array<f32>;
@group(0) @binding(4) var<storage, read_write> m_stats: array<f32>;
@group(0) @binding(5) var<uniform> m_params: Plane;

var<workgroup> partial: array<f32, RWG>;

fn reduce_sum(lid: u32, value: f32) -> f32 {
  partial[lid] = value;
  workgroupBarrier();
  for (var k = RWG / 2u; k > 0u; k = k / 2u) {
    if (lid < k) {
      partial[lid] += partial[lid + k];
    }
    workgroupBarrier();
  }
  let total = partial[0];
  workgroupBarrier();
  return total;
}

@compute @workgroup_size(RWG)
fn moments(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let n = m_params.plane;
  let base = wid.x * n;
  var s = 0.0;
  for (var i = lid; i < n; i += RWG) {
    s += m_data[base + i];
  }
  let mean = reduce_sum(lid, s) / f32(n);
  var q = 0.0;
  for (var i = lid; i < n; i += RWG) {
    let d = m_data[base + i] - mean;
    q += d * d;
  }
  let sq = reduce_sum(lid, q);
  if (lid == 0u) {
    let at = (m_params.slot * m_params.channels + wid.x) * 2u;
    m_stats[at] = mean;
    m_stats[at + 1u] = sqrt(sq / f32(max(n, 2u) - 1u));
  }
}

@group(0) @binding(6) var<storage, read_write> r_data: array<f32>;
@group(0) @binding(7) var<storage, read> r_stats: array<f32>;
@group(0) @binding(8) var<uniform> r_params: Plane;

@compute @workgroup_size(RWG)
fn renorm(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let i = (wid.y * r_params.row + wid.x) * RWG + lid;
  let n = r_params.plane;
  if (i >= n * r_params.channels) {
    return;
  }
  let c = i / n;
  let frame = c * 2u;
  let own = (r_params.channels + c) * 2u;
  // a flat shrunk channel has nothing to stretch: it takes the frame's mean
  let gain = select(r_stats[frame + 1u] / r_stats[own + 1u], 0.0, r_stats[own + 1u] < 1e-6);
  r_data[i] = (r_data[i] - r_stats[own]) * gain + r_stats[frame];
}
