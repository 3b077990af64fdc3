/**
 * Test helper (helper-34's review, session 28). A hand-made MPEG-2 field-picture stream (ISO/IEC 13818-2): sequence header + extension, GOP,
 * then field pictures (and one frame picture) with random intra / MC / 16x8 / skipped /
 * no-MC / concealment macroblocks, for comparing a decoder with ffmpeg's.
 * Uses the decoder's VLC tables (they were checked against Annex B separately).
 */
import * as T from '../src/media/mpeg2/vlc-tables.ts';

class BitWriter {
  bytes: number[] = [];
  private cur = 0;
  n = 0;
  get pos(): number {
    return this.bytes.length * 8 + this.n;
  }
  bit(b: number): void {
    this.cur = (this.cur << 1) | (b & 1);
    if (++this.n === 8) {
      this.bytes.push(this.cur);
      this.cur = 0;
      this.n = 0;
    }
  }
  put(v: number, len: number): void {
    for (let i = len - 1; i >= 0; i--) this.bit((v >>> i) & 1);
  }
  code(s: string): void {
    for (const c of s) this.bit(c === '1' ? 1 : 0);
  }
  align(): void {
    while (this.n) this.bit(0);
  }
  start(code: number): void {
    this.align();
    this.put(1, 24);
    this.put(code, 8);
  }
}

function inverse<V>(
  table: readonly (readonly [string, V])[],
  key: (v: V) => string,
): Map<string, string> {
  const m = new Map<string, string>();
  for (const [c, v] of table) if (!m.has(key(v))) m.set(key(v), c);
  return m;
}
const ADDR = inverse(T.MACROBLOCK_ADDRESS_INCREMENT, String);
const MBT = [
  null,
  inverse(T.MACROBLOCK_TYPE_I, String),
  inverse(T.MACROBLOCK_TYPE_P, String),
  inverse(T.MACROBLOCK_TYPE_B, String),
];
const CBP = inverse(T.CODED_BLOCK_PATTERN, String);
const MOT = inverse(T.MOTION_CODE, String);
const DCL = inverse(T.DCT_DC_SIZE_LUMINANCE, String);
const DCC = inverse(T.DCT_DC_SIZE_CHROMINANCE, String);
const DCT0 = inverse(T.DCT_COEFFICIENTS_ZERO, (v) => `${v[0]},${v[1]}`);

/**
 * The largest coefficient level written: kept small so no coefficient saturates, where ffmpeg's
 * MPEG-2 inverse quantiser (which does not saturate) would differ from the standard's.
 */
const LEVELMAX = 12;
export interface PicSpec {
  type: 1 | 2 | 3;
  structure: 1 | 2 | 3;
  tr: number;
  conceal?: boolean;
  qScaleType?: number;
  /** Only predict from these field parities (P field pictures), e.g. [0] for "top only". */
  selects?: number[];
  /** No skipped macroblocks. */
  noSkip?: boolean;
  /** P pictures: every non-intra macroblock has a forward vector (no "no MC" macroblocks). */
  forceMc?: boolean;
  /** B field pictures: skip macroblocks after 16x8-predicted ones too. */
  skipAfter16x8?: boolean;
  /** No 16x8 prediction. */
  no16x8?: boolean;
}

export interface Options {
  width: number;
  height: number;
  seed: number;
  pictures: PicSpec[];
  /** f_code for all vectors (1..9). */
  fCode?: number;
}

export function makeStream(o: Options): Uint8Array {
  let seed = o.seed >>> 0 || 1;
  const rnd = (): number => {
    seed ^= seed << 13;
    seed >>>= 0;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    seed >>>= 0;
    return seed / 4294967296;
  };
  const ri = (lo: number, hi: number): number => lo + Math.floor(rnd() * (hi - lo + 1));
  const w = new BitWriter();
  const W = o.width;
  const H = o.height;
  const mbw = (W + 15) >> 4;
  const fcode = o.fCode ?? 2;
  const rsize = fcode - 1;
  const f = 1 << rsize;

  // sequence header
  w.start(0xb3);
  w.put(W, 12);
  w.put(H, 12);
  w.put(2, 4); // 4:3
  w.put(3, 4); // 25 Hz
  w.put(20000, 18);
  w.bit(1);
  w.put(112, 10);
  w.bit(0);
  w.bit(0);
  w.bit(0);
  // sequence extension
  w.start(0xb5);
  w.put(1, 4);
  w.put(0x48, 8); // main profile, main level
  w.bit(0); // progressive_sequence
  w.put(1, 2); // 4:2:0
  w.put(0, 2);
  w.put(0, 2);
  w.put(0, 12);
  w.bit(1);
  w.put(0, 8);
  w.bit(0); // low_delay
  w.put(0, 2);
  w.put(0, 5);
  // GOP
  w.start(0xb8);
  w.bit(0);
  w.put(0, 5);
  w.put(0, 6);
  w.bit(1);
  w.put(0, 6);
  w.put(0, 6);
  w.bit(1); // closed_gop
  w.bit(0);

  for (const p of o.pictures) {
    const field = p.structure !== 3;
    w.start(0x00);
    w.put(p.tr, 10);
    w.put(p.type, 3);
    w.put(0xffff, 16);
    if (p.type >= 2) {
      w.bit(0);
      w.put(7, 3);
    }
    if (p.type === 3) {
      w.bit(0);
      w.put(7, 3);
    }
    w.bit(0); // extra_bit_picture
    // picture coding extension
    w.start(0xb5);
    w.put(8, 4);
    const fc = [
      p.type >= 2 || p.conceal ? fcode : 15,
      p.type >= 2 || p.conceal ? fcode : 15,
      p.type === 3 ? fcode : 15,
      p.type === 3 ? fcode : 15,
    ];
    for (const c of fc) w.put(c, 4);
    w.put(0, 2); // intra_dc_precision 8 bits
    w.put(p.structure, 2);
    w.bit(0); // top_field_first (0 in field pictures; frame picture: bottom first here)
    w.bit(field ? 0 : 1); // frame_pred_frame_dct
    w.bit(p.conceal ? 1 : 0);
    w.bit(p.qScaleType ?? 0);
    w.bit(0); // intra_vlc_format
    w.bit(0); // alternate_scan
    w.bit(0); // repeat_first_field
    w.bit(0); // chroma_420_type
    w.bit(0); // progressive_frame
    w.bit(0); // composite_display_flag

    const rows = field ? H >> 5 : H >> 4; // macroblock rows in the picture (H multiple of 32)
    const ph = field ? H / 2 : H; // picture height in its own lines
    for (let row = 0; row < rows; row++) {
      // one or two slices per row
      const cuts = rnd() < 0.5 ? [0, mbw] : [0, ri(1, mbw - 1), mbw];
      for (let k = 0; k + 1 < cuts.length; k++) {
        const from = cuts[k]!;
        const to = cuts[k + 1]!;
        w.start(row + 1);
        w.put(ri(2, 14), 5);
        if (rnd() < 0.3) {
          // intra_slice_flag, intra_slice, reserved, then one extra_information_slice byte
          w.bit(1);
          w.bit(0);
          w.put(0, 7);
          if (rnd() < 0.5) {
            w.bit(1);
            w.put(0xa5, 8);
          }
        }
        w.bit(0); // extra_bit_slice
        // predictors (generator's model, for choosing in-range deltas)
        const pmv = [0, 0, 0, 0, 0, 0, 0, 0];
        let prevAddr = -1; // column before the row: the first increment is the column + 1
        let lastIntra = true;
        let lastWasFieldMc = false;
        const dcp = [128, 128, 128];
        let col = from;
        while (col < to) {
          // decide skip run before this MB (not the first of the slice; not the last)
          if (p.type !== 1 && !p.noSkip && col !== from && col < to - 1 && rnd() < 0.25) {
            const canSkipB =
              p.type === 3 && !lastIntra && (!field || lastWasFieldMc || !!p.skipAfter16x8);
            if (p.type === 2 || canSkipB) {
              const n = Math.min(ri(1, 2), to - 1 - col);
              if (p.type === 2) pmv.fill(0);
              dcp.fill(128);
              col += n;
            }
          }
          let inc = col - prevAddr;
          while (inc > 33) {
            w.code('00000001000');
            inc -= 33;
          }
          w.code(ADDR.get(String(inc))!);
          prevAddr = col;
          // macroblock type
          const intra = p.type === 1 || rnd() < 0.12;
          let fwd = false;
          let bwd = false;
          let pattern = false;
          if (!intra) {
            if (p.type === 2) {
              fwd = p.forceMc || rnd() < 0.8;
              pattern = !fwd || rnd() < 0.5;
            } else {
              const d = ri(0, 2);
              fwd = d !== 1;
              bwd = d !== 0;
              pattern = rnd() < 0.5;
            }
          }
          const quant = rnd() < 0.2 && (intra || pattern);
          const flags =
            (quant ? T.MB_QUANT : 0) |
            (fwd ? T.MB_MOTION_FORWARD : 0) |
            (bwd ? T.MB_MOTION_BACKWARD : 0) |
            (pattern ? T.MB_PATTERN : 0) |
            (intra ? T.MB_INTRA : 0);
          const tcode = MBT[p.type]!.get(String(flags));
          if (!tcode) throw new Error(`no mb type ${flags} in ${p.type}`);
          w.code(tcode);
          let motion = 0;
          if (fwd || bwd) {
            if (field) motion = !p.no16x8 && rnd() < 0.35 ? 2 : 1;
            else motion = 2; // frame_pred_frame_dct: frame MC, not sent
            if (field) w.put(motion, 2);
          }
          if (quant) w.put(ri(1, 14), 5);
          const vectorOut = (
            r: number,
            s: number,
            ypos: number,
            hgt: number,
            xpos: number,
          ): void => {
            const lim = [
              [Math.max(-2 * xpos, -14), Math.min(2 * (W - 16 - xpos), 14)],
              [Math.max(-2 * ypos, -14), Math.min(2 * (ph - hgt - ypos), 14)],
            ];
            for (let t = 0; t < 2; t++) {
              const v = ri(lim[t]![0]!, lim[t]![1]!);
              const at = r * 4 + s * 2 + t;
              let delta = v - pmv[at]!;
              if (delta < -16 * f) delta += 32 * f;
              else if (delta > 16 * f - 1) delta -= 32 * f;
              let code = 0;
              let residual = 0;
              if (delta !== 0) {
                if (f === 1) code = delta;
                else {
                  const a = Math.abs(delta) - 1;
                  code = ((a >> rsize) + 1) * Math.sign(delta);
                  residual = a & (f - 1);
                }
              }
              w.code(MOT.get(String(code))!);
              if (f !== 1 && code !== 0) w.put(residual, rsize);
              pmv[at] = v;
            }
          };
          const motionVectors = (s: number, mt: number): void => {
            const mby = row;
            if (!field) {
              // frame MC in a frame picture
              vectorOut(0, s, mby * 16, 16, col * 16);
              pmv[4 + s * 2] = pmv[s * 2]!;
              pmv[5 + s * 2] = pmv[s * 2 + 1]!;
            } else if (mt === 1) {
              w.bit(p.selects ? p.selects[ri(0, p.selects.length - 1)]! : ri(0, 1));
              vectorOut(0, s, mby * 16, 16, col * 16);
              pmv[4 + s * 2] = pmv[s * 2]!;
              pmv[5 + s * 2] = pmv[s * 2 + 1]!;
            } else {
              for (let r = 0; r < 2; r++) {
                w.bit(p.selects ? p.selects[ri(0, p.selects.length - 1)]! : ri(0, 1));
                vectorOut(r, s, mby * 16 + r * 8, 8, col * 16);
              }
            }
          };
          const conceal = intra && !!p.conceal;
          if (fwd) motionVectors(0, motion);
          else if (conceal) motionVectors(0, field ? 1 : 2);
          if (bwd) motionVectors(1, motion);
          if (conceal) w.bit(1);
          if (intra && !conceal) pmv.fill(0);
          if (p.type === 2 && !intra && !fwd) pmv.fill(0);
          let cbp = intra ? 63 : 0;
          if (pattern) {
            cbp = ri(1, 63);
            w.code(CBP.get(String(cbp))!);
          }
          for (let b = 0; b < 6; b++) {
            if (!(cbp & (32 >> b))) continue;
            let firstNonIntra = !intra;
            if (intra) {
              const cc = b < 4 ? 0 : b - 3;
              const target = Math.min(239, Math.max(16, dcp[cc]! + ri(-30, 30)));
              const diff = target - dcp[cc]!;
              dcp[cc] = target;
              const size = diff === 0 ? 0 : 32 - Math.clz32(Math.abs(diff));
              w.code((b < 4 ? DCL : DCC).get(String(size))!);
              if (size) w.put(diff > 0 ? diff : diff + (1 << size) - 1, size);
            }
            // a few coefficients
            let n = intra ? 1 : 0;
            const count = ri(intra ? 0 : 1, 5);
            for (let c = 0; c < count; c++) {
              const run = ri(0, 4);
              if (n + run > 63) break;
              n += run + 1;
              const level = ri(1, rnd() < 0.1 ? LEVELMAX : 6) * (rnd() < 0.5 ? -1 : 1);
              if (firstNonIntra && run === 0 && Math.abs(level) === 1) {
                w.bit(1);
                w.bit(level < 0 ? 1 : 0);
              } else {
                const vc = DCT0.get(`${run},${Math.abs(level)}`);
                if (vc && rnd() < 0.8) {
                  w.code(vc);
                  w.bit(level < 0 ? 1 : 0);
                } else {
                  w.code('000001');
                  w.put(run, 6);
                  w.put(level & 0xfff, 12);
                }
              }
              firstNonIntra = false;
            }
            w.code('10'); // EOB
          }
          if (!intra) dcp.fill(128);
          lastIntra = intra;
          lastWasFieldMc = motion === 1;
          col++;
        }
      }
    }
  }
  w.start(0xb7);
  w.align();
  return Uint8Array.from(w.bytes);
}
