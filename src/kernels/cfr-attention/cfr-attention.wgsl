// cfr-attention: DLoRAL's Cross-Frame Retrieval fusion on one latent tile (DESIGN.md step 5).
// Inputs are planar f32: cur = z_n [IN_CH, H, W], reference = warped z_{n-1} [IN_CH, H, W].
// C = HEADS * HEAD_DIM; channel c of Q, K, V belongs to head c / HEAD_DIM.
//
//   project      Q = Wq cur + bq, K = Wk ref + bk, V = Wv ref + bv          -> q/k/v_buf [C, HW]
//   attend_all   out[h,:,p] = sum_q ReLU((sim - tau) / T) V[h,:,q]          -> attn_buf [C, HW]
//   attend_topk  the same sum over the k keys of highest sim only (k in the uniform: it changes
//                no buffer or tiling, so one pipeline serves every k)
//   project_out  fused = cur + (Wout attn + bout)                            -> fused [IN_CH, HW]
// with sim = <Q[h,:,p], K[h,:,q]> / sqrt(HEAD_DIM), tau[h,p] = tau_w . Q[h,:,p] + tau_b (one
// Linear shared by all heads), no softmax. Keys farther than `radius` from p on either axis are
// skipped when radius >= 0 (the reference is already flow-aligned, so p's match sits at p).
//
// Tiling of the attention passes: a workgroup is a QB_X x QB_Y = 8 x 8 block of queries of one
// head (64 invocations; dispatch ceil(W / 8) x ceil(H / 8) x HEADS). Its 64 query vectors sit in
// q_tile (64 * MAX_HEAD_DIM f32 = 16 KiB). Keys stream through k_tile (and v_tile for attend_all)
// KEY_TILE = 16 at a time (16 * 64 f32 = 4 KiB each), in increasing key index, over the union of
// the block's search windows (the whole tile without a radius). Workgroup memory: 24 KiB + 64 B
// (both entry points declare the same tiles), under SwiftShader's 32 KiB. Nothing HW x HW is
// ever stored: attend_all keeps a private accumulator of MAX_HEAD_DIM f32 per query;
// attend_topk keeps a private candidate list of k (sim, key) pairs (k <= MAX_TOPK), fills
// it only with keys whose sim exceeds tau (the others have weight 0 whatever their rank, so the
// output equals "top-k, then ReLU"), evicts the worst (lowest sim, then highest key index, so ties
// keep the earlier key), then sorts the survivors by key index and gathers their V columns from
// global memory: the sum runs in the same key order as attend_all and the dense reference.
//
// Bands: an attention dispatch covers the query rows row0 .. row0 + rows - 1 only (dispatch
// ceil(W / 8) x ceil(rows / 8) x HEADS); a band still sees every key row. The descriptor keeps
// one uniform slot per band (256-byte aligned, written at update, never per encode) and issues
// one dispatch per band, so a caller can submit between bands and no single dispatch outlives a
// GPU watchdog (Windows TDR: 2 s). Bands are whole multiples of QB_Y rows, so each workgroup
// holds the same 64 queries and walks the same key window as in the one-band dispatch: the
// output is bit for bit the same. The band height comes from a work estimate in the descriptor
// (cfrBandRows: the most multiple-of-8 rows whose rows x W x keys visited x HEADS x HEAD_DIM is
// under 2^32 multiply-adds, at least 8: a 96 x 96 tile of 9 heads x 64 runs as 12 bands of 8).
//
// project and project_out run one invocation per (position, output channel): workgroup PROJ_WG
// positions, dispatch ceil(HW / PROJ_WG) x C (resp. x IN_CH); they ignore row0 and rows.
// MAX_HEAD_DIM, MAX_TOPK, QB_X, QB_Y and KEY_TILE are read from this file by the descriptor.

override IN_CH: u32 = 4u;
override HEADS: u32 = 9u;
override HEAD_DIM: u32 = 64u;
override PROJ_WG: u32 = 64u;
// Offsets (in f32) of each tensor in the weight buffer, from cfrWeightLayout.
override OFF_Q_W: u32;
override OFF_Q_B: u32;
override OFF_K_W: u32;
override OFF_K_B: u32;
override OFF_V_W: u32;
override OFF_V_B: u32;
override OFF_TAU_W: u32;
override OFF_TAU_B: u32;
override OFF_OUT_W: u32;
override OFF_OUT_B: u32;

const MAX_HEAD_DIM: u32 = 64u;
const MAX_TOPK: u32 = 32u;
const QB_X: u32 = 8u;
const QB_Y: u32 = 8u;
const KEY_TILE: u32 = 16u;
const QB: u32 = QB_X * QB_Y;

struct Params {
  width: u32,
  height: u32,
  radius: i32, // < 0: every key of the tile
  top_k: u32, // attend_topk: keys kept per query, 1..MAX_TOPK
  scale: f32, // sqrt(HEAD_DIM) rounded to f32, the divisor of the dot product
  temperature: f32,
  row0: u32, // attention passes: first query row of this band
  rows: u32, // attention passes: query rows in this band (row0 + rows <= height)
}

@group(0) @binding(0) var<storage, read> cur: array<f32>;
@group(0) @binding(1) var<storage, read> reference: array<f32>;
@group(0) @binding(2) var<storage, read> wts: array<f32>;
@group(0) @binding(3) var<storage, read_write> q_buf: array<f32>;
@group(0) @binding(4) var<storage, read_write> k_buf: array<f32>;
@group(0) @binding(5) var<storage, read_write> v_buf: array<f32>;
@group(0) @binding(6) var<storage, read_write> attn_buf: array<f32>;
@group(0) @binding(7) var<storage, read_write> fused: array<f32>;
@group(0) @binding(8) var<uniform> params: Params;

@compute @workgroup_size(PROJ_WG)
fn project(@builtin(global_invocation_id) gid: vec3<u32>) {
  let hw = params.width * params.height;
  let p = gid.x;
  let c = gid.y;
  if (p >= hw) {
    return;
  }
  var q = 0.0;
  var k = 0.0;
  var v = 0.0;
  for (var i = 0u; i < IN_CH; i++) {
    let a = cur[i * hw + p];
    let b = reference[i * hw + p];
    q += wts[OFF_Q_W + c * IN_CH + i] * a;
    k += wts[OFF_K_W + c * IN_CH + i] * b;
    v += wts[OFF_V_W + c * IN_CH + i] * b;
  }
  let o = c * hw + p;
  q_buf[o] = q + wts[OFF_Q_B + c];
  k_buf[o] = k + wts[OFF_K_B + c];
  v_buf[o] = v + wts[OFF_V_B + c];
}

@compute @workgroup_size(PROJ_WG)
fn project_out(@builtin(global_invocation_id) gid: vec3<u32>) {
  let hw = params.width * params.height;
  let p = gid.x;
  let c = gid.y;
  if (p >= hw) {
    return;
  }
  let channels = HEADS * HEAD_DIM;
  var acc = 0.0;
  for (var m = 0u; m < channels; m++) {
    acc += wts[OFF_OUT_W + c * channels + m] * attn_buf[m * hw + p];
  }
  fused[c * hw + p] = cur[c * hw + p] + (acc + wts[OFF_OUT_B + c]);
}

var<workgroup> q_tile: array<f32, QB * MAX_HEAD_DIM>; // [j][query]
var<workgroup> k_tile: array<f32, KEY_TILE * MAX_HEAD_DIM>; // [j][key]
var<workgroup> v_tile: array<f32, KEY_TILE * MAX_HEAD_DIM>; // [j][key], attend_all only
var<workgroup> key_ids: array<u32, KEY_TILE>;

// The keys a workgroup visits: a rectangle x0.., y0.. of `w` columns and `count` keys.
struct Window {
  x0: u32,
  y0: u32,
  w: u32,
  count: u32,
}

fn key_window(wid: vec3<u32>) -> Window {
  let width = params.width;
  let height = params.height;
  if (params.radius < 0) {
    return Window(0u, 0u, width, width * height);
  }
  let r = u32(params.radius);
  let bx = wid.x * QB_X;
  let by = params.row0 + wid.y * QB_Y;
  let x0 = select(0u, bx - r, bx > r);
  let y0 = select(0u, by - r, by > r);
  let x1 = min(min(bx + QB_X, width) - 1u + r, width - 1u);
  let y1 = min(min(by + QB_Y, params.row0 + params.rows) - 1u + r, height - 1u);
  let w = x1 - x0 + 1u;
  return Window(x0, y0, w, w * (y1 - y0 + 1u));
}

fn key_at(win: Window, lin: u32) -> u32 {
  return (win.y0 + lin / win.w) * params.width + win.x0 + lin % win.w;
}

struct Query {
  h: u32,
  px: u32,
  py: u32,
  p: u32,
  live: bool,
}

fn query_of(wid: vec3<u32>, lid: u32) -> Query {
  let px = wid.x * QB_X + lid % QB_X;
  let py = params.row0 + wid.y * QB_Y + lid / QB_X;
  let live = px < params.width && py < params.row0 + params.rows;
  return Query(wid.z, px, py, py * params.width + px, live);
}

// Fills q_tile and returns tau of this invocation's query. Call from uniform control flow.
fn load_query(q: Query, lid: u32) -> f32 {
  let hw = params.width * params.height;
  var tau = 0.0;
  for (var j = 0u; j < HEAD_DIM; j++) {
    var v = 0.0;
    if (q.live) {
      v = q_buf[(q.h * HEAD_DIM + j) * hw + q.p];
    }
    q_tile[j * QB + lid] = v;
    tau += wts[OFF_TAU_W + j] * v;
  }
  return tau + wts[OFF_TAU_B];
}

fn load_keys(h: u32, win: Window, t0: u32, lid: u32, with_values: bool) {
  let hw = params.width * params.height;
  if (lid < KEY_TILE && t0 + lid < win.count) {
    key_ids[lid] = key_at(win, t0 + lid);
  }
  for (var e = lid; e < HEAD_DIM * KEY_TILE; e += QB) {
    let j = e / KEY_TILE;
    let lin = t0 + e % KEY_TILE;
    if (lin < win.count) {
      let o = (h * HEAD_DIM + j) * hw + key_at(win, lin);
      k_tile[e] = k_buf[o];
      if (with_values) {
        v_tile[e] = v_buf[o];
      }
    }
  }
}

fn in_radius(q: Query, key: u32) -> bool {
  if (params.radius < 0) {
    return true;
  }
  let dx = abs(i32(key % params.width) - i32(q.px));
  let dy = abs(i32(key / params.width) - i32(q.py));
  return dx <= params.radius && dy <= params.radius;
}

fn similarity(lid: u32, t: u32) -> f32 {
  var dot = 0.0;
  for (var j = 0u; j < HEAD_DIM; j++) {
    dot += q_tile[j * QB + lid] * k_tile[j * KEY_TILE + t];
  }
  return dot / params.scale;
}

@compute @workgroup_size(QB_X, QB_Y)
fn attend_all(
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(local_invocation_index) lid: u32,
) {
  let q = query_of(wid, lid);
  let tau = load_query(q, lid);
  let win = key_window(wid);
  var acc: array<f32, MAX_HEAD_DIM>;
  for (var t0 = 0u; t0 < win.count; t0 += KEY_TILE) {
    workgroupBarrier();
    load_keys(q.h, win, t0, lid, true);
    workgroupBarrier();
    if (q.live) {
      let n = min(KEY_TILE, win.count - t0);
      for (var t = 0u; t < n; t++) {
        if (!in_radius(q, key_ids[t])) {
          continue;
        }
        let weight = max((similarity(lid, t) - tau) / params.temperature, 0.0);
        if (weight > 0.0) {
          for (var j = 0u; j < HEAD_DIM; j++) {
            acc[j] += weight * v_tile[j * KEY_TILE + t];
          }
        }
      }
    }
  }
  if (q.live) {
    let hw = params.width * params.height;
    for (var j = 0u; j < HEAD_DIM; j++) {
      attn_buf[(q.h * HEAD_DIM + j) * hw + q.p] = acc[j];
    }
  }
}

@compute @workgroup_size(QB_X, QB_Y)
fn attend_topk(
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(local_invocation_index) lid: u32,
) {
  let q = query_of(wid, lid);
  let tau = load_query(q, lid);
  let win = key_window(wid);
  var sims: array<f32, MAX_TOPK>;
  var keys: array<u32, MAX_TOPK>;
  var n_cand = 0u;
  var worst = 0u;
  for (var t0 = 0u; t0 < win.count; t0 += KEY_TILE) {
    workgroupBarrier();
    load_keys(q.h, win, t0, lid, false);
    workgroupBarrier();
    if (q.live) {
      let n = min(KEY_TILE, win.count - t0);
      for (var t = 0u; t < n; t++) {
        let key = key_ids[t];
        if (!in_radius(q, key)) {
          continue;
        }
        let sim = similarity(lid, t);
        // keys at or under tau weigh 0 whatever their rank: they never need a slot
        if (sim <= tau) {
          continue;
        }
        var slot = n_cand;
        if (n_cand == params.top_k) {
          // a later key only displaces a strictly lower sim, so ties keep the earlier key
          if (sim <= sims[worst]) {
            continue;
          }
          slot = worst;
        } else {
          n_cand += 1u;
        }
        sims[slot] = sim;
        keys[slot] = key;
        if (n_cand == params.top_k) {
          worst = 0u;
          for (var i = 1u; i < params.top_k; i++) {
            let s = sims[i];
            let ws = sims[worst];
            if (s < ws || (s == ws && keys[i] > keys[worst])) {
              worst = i;
            }
          }
        }
      }
    }
  }
  if (!q.live) {
    return;
  }
  // Sort the survivors by key index so the sum runs in the order attend_all uses.
  for (var i = 1u; i < n_cand; i++) {
    let s = sims[i];
    let k = keys[i];
    var m = i;
    while (m > 0u && keys[m - 1u] > k) {
      sims[m] = sims[m - 1u];
      keys[m] = keys[m - 1u];
      m -= 1u;
    }
    sims[m] = s;
    keys[m] = k;
  }
  for (var i = 0u; i < n_cand; i++) {
    sims[i] = max((sims[i] - tau) / params.temperature, 0.0);
  }
  let hw = params.width * params.height;
  for (var j = 0u; j < HEAD_DIM; j++) {
    let row = (q.h * HEAD_DIM + j) * hw;
    var acc = 0.0;
    for (var i = 0u; i < n_cand; i++) {
      if (sims[i] > 0.0) {
        acc += sims[i] * v_buf[row + keys[i]];
      }
    }
    attn_buf[row + q.p] = acc;
  }
}
