/**
 * The headers of MPEG-1 and MPEG-2 video above the slice: sequence header and extensions,
 * group of pictures, picture header and picture coding extension (ISO/IEC 13818-2 6.2.2-6.2.3,
 * 11172-2 2.4.2). Each reader starts just after the header's start code.
 */
import type { BitReader } from './bits.ts';

/** The zigzag scan: the coefficient (row * 8 + column) sent n-th (13818-2 figure 7-2). */
export const ZIGZAG = Uint8Array.from([
  0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5, 12, 19, 26, 33, 40, 48, 41, 34, 27, 20,
  13, 6, 7, 14, 21, 28, 35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51, 58, 59, 52,
  45, 38, 31, 39, 46, 53, 60, 61, 54, 47, 55, 62, 63,
]);

/** The alternate scan of interlaced MPEG-2 (13818-2 figure 7-3). */
export const ALTERNATE = Uint8Array.from([
  0, 8, 16, 24, 1, 9, 2, 10, 17, 25, 32, 40, 48, 56, 57, 49, 41, 33, 26, 18, 3, 11, 4, 12, 19, 27,
  34, 42, 50, 58, 35, 43, 51, 59, 20, 28, 5, 13, 6, 14, 21, 29, 36, 44, 52, 60, 37, 45, 53, 61, 22,
  30, 7, 15, 23, 31, 38, 46, 54, 62, 39, 47, 55, 63,
]);

/** The default intra quantiser matrix in row order (13818-2 6.3.11). */
const DEFAULT_INTRA = Uint8Array.from([
  8, 16, 19, 22, 26, 27, 29, 34, 16, 16, 22, 24, 27, 29, 34, 37, 19, 22, 26, 27, 29, 34, 34, 38, 22,
  22, 26, 27, 29, 34, 37, 40, 22, 26, 27, 29, 32, 35, 40, 48, 26, 27, 29, 32, 35, 40, 48, 58, 26,
  27, 29, 34, 38, 46, 56, 69, 27, 29, 35, 38, 46, 56, 69, 83,
]);

/** Frames a second of each frame_rate_code (13818-2 table 6-4), as [numerator, denominator]. */
export const FRAME_RATES: readonly (readonly [number, number])[] = [
  [0, 1],
  [24000, 1001],
  [24, 1],
  [25, 1],
  [30000, 1001],
  [30, 1],
  [50, 1],
  [60000, 1001],
  [60, 1],
];

export interface Sequence {
  /** Whether a sequence extension follows the header: MPEG-2, else MPEG-1. */
  mpeg2: boolean;
  width: number;
  height: number;
  /** aspect_ratio_information: MPEG-2's display aspect code, MPEG-1's pixel aspect code. */
  aspectCode: number;
  frameRate: readonly [number, number];
  progressive: boolean;
  /** 1 4:2:0, 2 4:2:2, 3 4:4:4. */
  chromaFormat: number;
  /** Quantiser matrices in row order. */
  intraMatrix: Uint8Array;
  nonIntraMatrix: Uint8Array;
}

/** Reads a matrix sent in zigzag order into row order. */
function readMatrix(bits: BitReader, into: Uint8Array): void {
  for (let n = 0; n < 64; n++) into[ZIGZAG[n]!] = bits.read(8);
}

/** sequence_header() after its start code 0x000001B3. */
export function readSequenceHeader(bits: BitReader): Sequence {
  const width = bits.read(12);
  const height = bits.read(12);
  const aspectCode = bits.read(4);
  const rate = bits.read(4);
  bits.skip(18 + 1 + 10 + 1); // bit_rate, marker, vbv_buffer_size, constrained_parameters
  const intraMatrix = DEFAULT_INTRA.slice();
  const nonIntraMatrix = new Uint8Array(64).fill(16);
  if (bits.bit()) readMatrix(bits, intraMatrix);
  if (bits.bit()) readMatrix(bits, nonIntraMatrix);
  return {
    mpeg2: false,
    width,
    height,
    aspectCode,
    frameRate: FRAME_RATES[rate] ?? [0, 1],
    progressive: true,
    chromaFormat: 1,
    intraMatrix,
    nonIntraMatrix,
  };
}

/** The extensions this decoder reads: their extension_start_code_identifier. */
export const SEQUENCE_EXTENSION = 1;
export const QUANT_MATRIX_EXTENSION = 3;
export const PICTURE_CODING_EXTENSION = 8;

/** sequence_extension() after its identifier: makes `seq` MPEG-2. */
export function readSequenceExtension(bits: BitReader, seq: Sequence): void {
  bits.skip(8); // profile_and_level_indication
  seq.mpeg2 = true;
  seq.progressive = bits.bit() === 1;
  seq.chromaFormat = bits.read(2);
  seq.width |= bits.read(2) << 12;
  seq.height |= bits.read(2) << 12;
  bits.skip(12 + 1 + 8 + 1); // bit_rate_extension, marker, vbv_buffer_size_extension, low_delay
  const n = bits.read(2);
  const d = bits.read(5);
  const [num, den] = seq.frameRate;
  seq.frameRate = [num * (n + 1), den * (d + 1)];
}

/** quant_matrix_extension() after its identifier (chroma matrices matter for 4:2:2 only). */
export function readQuantMatrixExtension(bits: BitReader, seq: Sequence): void {
  if (bits.bit()) readMatrix(bits, seq.intraMatrix);
  if (bits.bit()) readMatrix(bits, seq.nonIntraMatrix);
}

export const I_PICTURE = 1;
export const P_PICTURE = 2;
export const B_PICTURE = 3;

/** picture_structure values. */
export const TOP_FIELD = 1;
export const BOTTOM_FIELD = 2;
export const FRAME_PICTURE = 3;

export interface Picture {
  temporalReference: number;
  type: number;
  /** f_code[s][t] (s 0 forward, 1 backward; t 0 horizontal, 1 vertical) at [s * 2 + t]. */
  fCode: Int32Array;
  /** MPEG-1: vectors in whole pels. */
  fullPel: [boolean, boolean];
  intraDcPrecision: number;
  structure: number;
  topFieldFirst: boolean;
  framePredFrameDct: boolean;
  concealmentVectors: boolean;
  qScaleType: number;
  intraVlcFormat: number;
  alternateScan: boolean;
  repeatFirstField: boolean;
  progressiveFrame: boolean;
}

/** picture_header() after its start code 0x00000100, with MPEG-1's defaults for the rest. */
export function readPictureHeader(bits: BitReader): Picture {
  const temporalReference = bits.read(10);
  const type = bits.read(3);
  bits.skip(16); // vbv_delay
  const fCode = new Int32Array([15, 15, 15, 15]);
  const fullPel: [boolean, boolean] = [false, false];
  if (type === P_PICTURE || type === B_PICTURE) {
    fullPel[0] = bits.bit() === 1;
    fCode[0] = fCode[1] = bits.read(3);
  }
  if (type === B_PICTURE) {
    fullPel[1] = bits.bit() === 1;
    fCode[2] = fCode[3] = bits.read(3);
  }
  return {
    temporalReference,
    type,
    fCode,
    fullPel,
    intraDcPrecision: 0,
    structure: FRAME_PICTURE,
    topFieldFirst: true,
    framePredFrameDct: true,
    concealmentVectors: false,
    qScaleType: 0,
    intraVlcFormat: 0,
    alternateScan: false,
    repeatFirstField: false,
    progressiveFrame: true,
  };
}

/** picture_coding_extension() after its identifier. */
export function readPictureCodingExtension(bits: BitReader, pic: Picture): void {
  for (let k = 0; k < 4; k++) pic.fCode[k] = bits.read(4);
  pic.intraDcPrecision = bits.read(2);
  pic.structure = bits.read(2);
  pic.topFieldFirst = bits.bit() === 1;
  pic.framePredFrameDct = bits.bit() === 1;
  pic.concealmentVectors = bits.bit() === 1;
  pic.qScaleType = bits.bit();
  pic.intraVlcFormat = bits.bit();
  pic.alternateScan = bits.bit() === 1;
  pic.repeatFirstField = bits.bit() === 1;
  bits.skip(1); // chroma_420_type
  pic.progressiveFrame = bits.bit() === 1;
}
