/**
 * Slices, macroblocks and blocks of MPEG-1 and MPEG-2 video (ISO/IEC 13818-2 6.2.4-6.2.6 and
 * clause 7; 11172-2 2.4.2.7 and 2.4.4): variable-length decoding, motion vectors, inverse
 * quantisation, inverse DCT and motion-compensated prediction, written into the frame buffer
 * of the picture being decoded. 4:2:0 only: the decoder refuses other chroma formats first.
 */
import type { BitReader } from './bits.ts';
import {
  ALTERNATE,
  B_PICTURE,
  FRAME_PICTURE,
  P_PICTURE,
  type Picture,
  type Sequence,
  ZIGZAG,
} from './headers.ts';
import { idct } from './idct.ts';
import { type PlaneView, predict } from './motion.ts';
import { DCT_EOB, DCT_ESCAPE, DctVlc, Vlc, VlcError } from './vlc.ts';
import * as T from './vlc-tables.ts';

const ADDRESS_INCREMENT = new Vlc(T.MACROBLOCK_ADDRESS_INCREMENT);
const MB_TYPE = [
  null,
  new Vlc(T.MACROBLOCK_TYPE_I),
  new Vlc(T.MACROBLOCK_TYPE_P),
  new Vlc(T.MACROBLOCK_TYPE_B),
];
const CODED_BLOCK_PATTERN = new Vlc(T.CODED_BLOCK_PATTERN);
const MOTION_CODE = new Vlc(T.MOTION_CODE);
const DC_SIZE = [new Vlc(T.DCT_DC_SIZE_LUMINANCE), new Vlc(T.DCT_DC_SIZE_CHROMINANCE)];
const DCT_ZERO = new DctVlc(T.DCT_COEFFICIENTS_ZERO);
const DCT_ONE = new DctVlc(T.DCT_COEFFICIENTS_ONE);

/** quantiser_scale of each quantiser_scale_code when q_scale_type is 1 (13818-2 table 7-6). */
const NON_LINEAR_SCALE = Int32Array.from([
  0, 1, 2, 3, 4, 5, 6, 7, 8, 10, 12, 14, 16, 18, 20, 22, 24, 28, 32, 36, 40, 44, 48, 52, 56, 64, 72,
  80, 88, 96, 104, 112,
]);

/** frame_motion_type / field_motion_type. */
const MC_FIELD = 1;
const MC_FRAME = 2; // in field pictures: 16x8
const MC_DUAL_PRIME = 3;

/** Why a stream cannot be decoded here, as opposed to damage. */
export class UnsupportedStream extends Error {}

/** A 4:2:0 frame: Y, then Cb, then Cr, each plane `width` (coded, a multiple of 16) wide. */
export class FrameBuffer {
  readonly data: Uint8Array;
  readonly chromaAt: number;
  readonly crAt: number;
  /** The picture's size: the coded size without the padding to whole macroblocks. */
  visibleWidth = 0;
  visibleHeight = 0;
  timestamp = 0;
  duration = 0;
  progressive = true;
  topFieldFirst = true;
  /** Every plane's views (whole, top field, bottom field), made once: prediction asks for them
   * at every macroblock. */
  private readonly views: readonly PlaneView[];

  constructor(
    readonly width: number,
    readonly height: number,
  ) {
    this.chromaAt = width * height;
    this.crAt = this.chromaAt + (width * height) / 4;
    this.data = new Uint8Array((width * height * 3) / 2);
    this.views = [0, 1, 2].flatMap((plane) => {
      const w = plane === 0 ? width : width / 2;
      const h = plane === 0 ? height : height / 2;
      const base = plane === 0 ? 0 : plane === 1 ? this.chromaAt : this.crAt;
      const fields = [0, 1].map((f) => ({
        base: base + f * w,
        step: w * 2,
        width: w,
        height: h / 2,
      }));
      return [{ base, step: w, width: w, height: h }, ...fields];
    });
  }

  /** The luma (plane 0) or a chroma plane, whole (`field` -1) or one field (0 top, 1 bottom). */
  view(plane: number, field: number): PlaneView {
    return this.views[plane * 3 + field + 1]!;
  }
}

/** The frames a picture predicts from, and the one it is written into. */
export interface References {
  /** The frame being decoded. */
  current: FrameBuffer;
  /** Forward prediction: the older reference (P pictures' only one). */
  forward: FrameBuffer | null;
  /** Backward prediction (B pictures). */
  backward: FrameBuffer | null;
  /** A field picture that is the second field of its frame. */
  secondField: boolean;
}

export class SliceDecoder {
  private seq!: Sequence;
  private pic!: Picture;
  private refs!: References;
  private mbWidth = 0;
  /** Macroblock rows in the picture (a field picture has half the frame's). */
  private mbRows = 0;
  /** The field a field picture is: 0 top, 1 bottom; -1 in a frame picture. */
  private parity = -1;
  private qs = 0;
  private readonly dcPred = new Int32Array(3);
  /** PMV[r][s][t] at r * 4 + s * 2 + t. */
  private readonly pmv = new Int32Array(8);
  /** vector[r][s][t] of the current macroblock, at r * 4 + s * 2 + t. */
  private readonly mv = new Int32Array(8);
  /** motion_vertical_field_select[r][s] at r * 2 + s. */
  private readonly fieldSelect = new Int32Array(4);
  /** The last macroblock's type, whose directions a skipped one in a B picture repeats. */
  private lastType = 0;
  private readonly block = new Int32Array(64);
  private readonly rowViews: PlaneView[] = [];

  /** Sets up for the slices of one picture. */
  begin(seq: Sequence, pic: Picture, refs: References, mbWidth: number, mbHeight: number): void {
    this.seq = seq;
    this.pic = pic;
    this.refs = refs;
    this.mbWidth = mbWidth;
    this.parity = pic.structure === FRAME_PICTURE ? -1 : pic.structure - 1;
    this.mbRows = this.parity < 0 ? mbHeight : mbHeight / 2;
    for (let p = 0; p < 3; p++) this.rowViews[p] = refs.current.view(p, this.parity);
  }

  /** Decodes the slice whose start code (1..0xAF) was just read. Throws VlcError on damage. */
  slice(bits: BitReader, code: number): void {
    const row = code - 1;
    if (row >= this.mbRows) throw new VlcError('a slice below the picture');
    this.qs = this.scale(bits.read(5));
    while (bits.bit()) bits.skip(8); // MPEG-2's intra_slice flags, extra_information_slice
    this.resetDc();
    this.pmv.fill(0);
    const count = this.mbWidth * this.mbRows;
    let address = row * this.mbWidth - 1;
    let first = true;
    do {
      let increment = 0;
      for (;;) {
        const v = ADDRESS_INCREMENT.read(bits);
        if (v === 0) increment += 33;
        else if (v > 0) {
          increment += v;
          break;
        } // -1: MPEG-1 stuffing
      }
      if (!first) for (let k = 1; k < increment; k++) this.skipped(address + k);
      address += increment;
      first = false;
      if (address >= count) throw new VlcError('a macroblock past the end of the picture');
      this.macroblock(bits, address);
    } while (bits.peek(23) !== 0);
  }

  private scale(code: number): number {
    // MPEG-1's quantizer_scale times 2 gives the same products over 32 as its own over 16
    return this.seq.mpeg2 && this.pic.qScaleType ? NON_LINEAR_SCALE[code]! : code * 2;
  }

  private resetDc(): void {
    this.dcPred.fill(this.seq.mpeg2 ? 1 << (this.pic.intraDcPrecision + 7) : 128);
  }

  /** A macroblock the slice skips: P pictures copy the reference, B pictures repeat motion. */
  private skipped(address: number): void {
    this.resetDc();
    if (this.pic.type === P_PICTURE) {
      this.pmv.fill(0);
      this.mv.fill(0);
      this.fieldSelect[0] = Math.max(this.parity, 0);
      this.predictMacroblock(address, 2, this.parity < 0 ? MC_FRAME : MC_FIELD);
    } else if (this.pic.type === B_PICTURE) {
      // the previous macroblock's directions, predicted with the motion vector predictors: frame
      // prediction in a frame picture, from the same parity in a field picture (13818-2 7.6.6.4)
      for (let k = 0; k < 4; k++) this.mv[k] = this.pmv[k]!;
      this.fieldSelect[0] = this.fieldSelect[1] = Math.max(this.parity, 0);
      this.predictMacroblock(address, this.lastType, this.parity < 0 ? MC_FRAME : MC_FIELD);
    } else throw new VlcError('a skipped macroblock in an I picture');
  }

  private macroblock(bits: BitReader, address: number): void {
    const { pic, seq } = this;
    const vlc = MB_TYPE[pic.type];
    if (!vlc) throw new UnsupportedStream('D pictures');
    const type = vlc.read(bits);
    const frame = this.parity < 0;
    const moving = (type & (T.MB_MOTION_FORWARD | T.MB_MOTION_BACKWARD)) !== 0;
    let motion = frame ? MC_FRAME : MC_FIELD;
    if (moving && seq.mpeg2 && !(frame && pic.framePredFrameDct)) motion = bits.read(2);
    if (motion === 0) throw new VlcError('a reserved motion type');
    if (motion === MC_DUAL_PRIME) throw new UnsupportedStream('dual-prime motion prediction');
    const intra = (type & T.MB_INTRA) !== 0;
    const fieldDct =
      seq.mpeg2 && frame && !pic.framePredFrameDct && (intra || (type & T.MB_PATTERN) !== 0)
        ? bits.bit() === 1
        : false;
    if (type & T.MB_QUANT) this.qs = this.scale(bits.read(5));
    const concealment = intra && pic.concealmentVectors;
    if (type & T.MB_MOTION_FORWARD || concealment) this.vectors(bits, 0, motion);
    if (type & T.MB_MOTION_BACKWARD) this.vectors(bits, 1, motion);
    if (concealment) bits.skip(1);
    const pattern = type & T.MB_PATTERN ? CODED_BLOCK_PATTERN.read(bits) : intra ? 63 : 0;
    if (intra) {
      if (!concealment) this.pmv.fill(0);
    } else {
      this.resetDc();
      let kind = type;
      if (pic.type === P_PICTURE && !(type & T.MB_MOTION_FORWARD)) {
        // no motion vector in a P picture: the reference's macroblock in place
        this.pmv.fill(0);
        this.mv.fill(0);
        this.fieldSelect[0] = Math.max(this.parity, 0);
        kind |= T.MB_MOTION_FORWARD;
        motion = frame ? MC_FRAME : MC_FIELD;
      }
      this.predictMacroblock(address, kind, motion);
      this.lastType = kind;
    }
    for (let b = 0; b < 6; b++) {
      if (pattern & (32 >> b)) this.residual(bits, address, b, intra, fieldDct);
    }
  }

  /** motion_vectors(s): one or two vectors and their field selects. */
  private vectors(bits: BitReader, s: number, motion: number): void {
    const frame = this.parity < 0;
    const fieldFormat = !frame || motion === MC_FIELD;
    const two = frame ? motion === MC_FIELD : motion === MC_FRAME;
    if (!two) {
      if (fieldFormat) this.fieldSelect[s] = bits.bit();
      this.vector(bits, 0, s, frame && fieldFormat);
      this.pmv[4 + s * 2] = this.pmv[s * 2]!;
      this.pmv[5 + s * 2] = this.pmv[s * 2 + 1]!;
      this.mv[4 + s * 2] = this.mv[s * 2]!;
      this.mv[5 + s * 2] = this.mv[s * 2 + 1]!;
    } else {
      this.fieldSelect[s] = bits.bit();
      this.vector(bits, 0, s, frame);
      this.fieldSelect[2 + s] = bits.bit();
      this.vector(bits, 1, s, frame);
    }
  }

  /** motion_vector(r, s) and its reconstruction (13818-2 7.6.3.1). */
  private vector(bits: BitReader, r: number, s: number, fieldInFrame: boolean): void {
    for (let t = 0; t < 2; t++) {
      const code = MOTION_CODE.read(bits);
      const rSize = this.pic.fCode[s * 2 + t]! - 1;
      if (rSize < 0 || rSize > 8) throw new VlcError('a forbidden f_code');
      const f = 1 << rSize;
      let delta = code;
      if (f !== 1 && code !== 0) {
        const residual = bits.read(rSize);
        delta = (Math.abs(code) - 1) * f + residual + 1;
        if (code < 0) delta = -delta;
      }
      const at = r * 4 + s * 2 + t;
      const halve = fieldInFrame && t === 1;
      let v = (halve ? this.pmv[at]! >> 1 : this.pmv[at]!) + delta;
      if (v < -16 * f) v += 32 * f;
      else if (v > 16 * f - 1) v -= 32 * f;
      this.mv[at] = v;
      this.pmv[at] = halve ? v * 2 : v;
    }
  }

  /** Writes the macroblock's motion-compensated prediction into the current frame. */
  private predictMacroblock(address: number, type: number, motion: number): void {
    const mbx = address % this.mbWidth;
    const mby = (address / this.mbWidth) | 0;
    const { refs, pic } = this;
    let average = false;
    for (let s = 0; s < 2; s++) {
      if (!(type & (s === 0 ? T.MB_MOTION_FORWARD : T.MB_MOTION_BACKWARD))) continue;
      const ref = pic.type === B_PICTURE && s === 1 ? refs.backward : refs.forward;
      if (!ref) throw new VlcError('a prediction from a missing reference');
      const scale = !this.seq.mpeg2 && pic.fullPel[s] ? 2 : 1;
      if (this.parity < 0 && motion === MC_FRAME) {
        this.predictPart(ref, -1, -1, mbx, mby * 16, 16, 0, s, scale, average);
      } else if (this.parity < 0) {
        // field prediction in a frame picture: each field of the macroblock on its own
        for (let f = 0; f < 2; f++) {
          this.predictPart(ref, this.fieldSelect[f * 2 + s]!, f, mbx, mby * 8, 8, f, s, 1, average);
        }
      } else {
        const parts = motion === MC_FRAME ? 2 : 1; // 16x8 prediction: two halves
        for (let r = 0; r < parts; r++) {
          const select = this.fieldSelect[r * 2 + s]!;
          // a P field picture's second field may predict from its frame's first field
          const from =
            pic.type === P_PICTURE && refs.secondField && select !== this.parity
              ? refs.current
              : ref;
          const rows = 16 / parts;
          this.predictPart(
            from,
            select,
            this.parity,
            mbx,
            mby * 16 + r * rows,
            rows,
            r,
            s,
            1,
            average,
          );
        }
      }
      average = true;
    }
  }

  /**
   * Predicts `rows` luma rows (and the chroma rows under them) of the macroblock in column
   * `mbx` starting at row `y` of the destination view (frame or field `dstField`) from field
   * `srcField` (or the frame, -1) of `ref` with vector[r][s].
   */
  private predictPart(
    ref: FrameBuffer,
    srcField: number,
    dstField: number,
    mbx: number,
    y: number,
    rows: number,
    r: number,
    s: number,
    scale: number,
    average: boolean,
  ): void {
    const cur = this.refs.current;
    const vx = this.mv[r * 4 + s * 2]! * scale;
    const vy = this.mv[r * 4 + s * 2 + 1]! * scale;
    const dst = cur.view(0, dstField);
    const src = ref.view(0, srcField);
    const x = mbx * 16;
    predict(
      ref.data,
      src,
      x * 2 + vx,
      y * 2 + vy,
      16,
      rows,
      cur.data,
      dst.base + y * dst.step + x,
      dst.step,
      average,
    );
    // 4:2:0 chroma: half the vector, truncated toward zero
    const cx = (vx / 2) | 0;
    const cy = (vy / 2) | 0;
    for (let p = 1; p < 3; p++) {
      const cdst = cur.view(p, dstField);
      const csrc = ref.view(p, srcField);
      const at = cdst.base + (y / 2) * cdst.step + x / 2;
      predict(ref.data, csrc, x + cx, y + cy, 8, rows / 2, cur.data, at, cdst.step, average);
    }
  }

  /** Decodes block `b` of the macroblock and writes (intra) or adds it to the prediction. */
  private residual(
    bits: BitReader,
    address: number,
    b: number,
    intra: boolean,
    fieldDct: boolean,
  ): void {
    const blk = this.block;
    blk.fill(0);
    const { seq, pic } = this;
    const mpeg2 = seq.mpeg2;
    const scan = pic.alternateScan ? ALTERNATE : ZIGZAG;
    const matrix = intra ? seq.intraMatrix : seq.nonIntraMatrix;
    const qs = this.qs;
    let n = 0;
    let sum = 0;
    let rows = 0;
    let ac = 0;
    let table = DCT_ZERO;
    if (intra) {
      const cc = b < 4 ? 0 : b - 3;
      const size = DC_SIZE[cc === 0 ? 0 : 1]!.read(bits);
      let diff = 0;
      if (size > 0) {
        const v = bits.read(size);
        diff = v >= 1 << (size - 1) ? v : v + 1 - (1 << size);
      }
      this.dcPred[cc] = this.dcPred[cc]! + diff;
      const dc = this.dcPred[cc] * (mpeg2 ? 8 >> pic.intraDcPrecision : 8);
      blk[0] = dc;
      sum = dc;
      rows = 1;
      n = 1;
      if (mpeg2 && pic.intraVlcFormat) table = DCT_ONE;
    } else if (bits.peek(1) === 1) {
      // a non-intra block's first coefficient: '1s' is run 0, level 1
      bits.skip(1);
      const v = this.dequantise(bits.bit() ? -1 : 1, matrix[scan[0]!]!, qs, false, mpeg2);
      blk[scan[0]!] = v;
      sum += v;
      rows = 1;
      if (scan[0] !== 0) ac++;
      n = 1;
    }
    for (;;) {
      const code = table.read(bits);
      if (code === DCT_EOB) break;
      let run: number;
      let level: number;
      if (code === DCT_ESCAPE) {
        run = bits.read(6);
        if (mpeg2) {
          level = bits.read(12);
          if (level === 0 || level === 2048) throw new VlcError('a forbidden escape level');
          if (level & 2048) level -= 4096;
        } else {
          level = bits.read(8);
          if (level === 0) level = bits.read(8);
          else if (level === 128) level = bits.read(8) - 256;
          else if (level > 128) level -= 256;
        }
      } else {
        run = code >> 8;
        level = bits.bit() ? -(code & 255) : code & 255;
      }
      n += run;
      if (n > 63) throw new VlcError('a block with more than 64 coefficients');
      const pos = scan[n]!;
      const v = this.dequantise(level, matrix[pos]!, qs, intra, mpeg2);
      blk[pos] = v;
      sum += v;
      rows |= 1 << (pos >> 3);
      ac++;
      n++;
    }
    if (mpeg2 && (sum & 1) === 0) {
      // mismatch control (13818-2 7.4.4)
      blk[63] = blk[63]! ^ 1;
      rows |= 128;
      ac++;
    }
    idct(blk, rows, ac === 0);
    this.write(address, b, intra, fieldDct);
  }

  /** One coefficient's inverse quantisation (13818-2 7.4.2-7.4.3, 11172-2 2.4.4.1-2.4.4.2). */
  private dequantise(level: number, w: number, qs: number, intra: boolean, mpeg2: boolean): number {
    const sign = level > 0 ? 1 : -1;
    let v = (((intra ? 2 * level : 2 * level + sign) * w * qs) / 32) | 0;
    if (!mpeg2 && v !== 0 && (v & 1) === 0) v -= sign; // MPEG-1 makes every coefficient odd
    return v < -2048 ? -2048 : v > 2047 ? 2047 : v;
  }

  /** Stores (intra) or adds the block's samples at its place in the macroblock. */
  private write(address: number, b: number, intra: boolean, fieldDct: boolean): void {
    const mbx = address % this.mbWidth;
    const mby = (address / this.mbWidth) | 0;
    const data = this.refs.current.data;
    let at: number;
    let step: number;
    if (b < 4) {
      const view = this.rowViews[0]!;
      const x = mbx * 16 + (b & 1) * 8;
      if (fieldDct) {
        at = view.base + (mby * 16 + (b >> 1)) * view.step + x;
        step = view.step * 2;
      } else {
        at = view.base + (mby * 16 + (b >> 1) * 8) * view.step + x;
        step = view.step;
      }
    } else {
      const view = this.rowViews[b - 3]!;
      at = view.base + mby * 8 * view.step + mbx * 8;
      step = view.step;
    }
    const blk = this.block;
    for (let y = 0, k = 0; y < 8; y++, at += step) {
      for (let x = 0; x < 8; x++, k++) {
        const v = intra ? blk[k]! : data[at + x]! + blk[k]!;
        data[at + x] = v < 0 ? 0 : v > 255 ? 255 : v;
      }
    }
  }
}
