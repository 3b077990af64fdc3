/**
 * The colour signalling of an H.264 stream, read from the sequence parameter set's VUI
 * (ITU-T H.264 section 7.3.2.1.1 and Annex E.1.1); why we need it: stream-colour.ts.
 */
import { Bits, UNSAID, type StreamColour } from './stream-colour.ts';

/** NAL payload -> RBSP: drop the 0x03 of every 00 00 03 sequence. */
export function nalToRbsp(nal: Uint8Array): Uint8Array {
  const out = new Uint8Array(nal.length);
  let n = 0;
  let zeros = 0;
  for (const b of nal) {
    if (zeros >= 2 && b === 3) {
      zeros = 0;
      continue;
    }
    out[n++] = b;
    zeros = b === 0 ? zeros + 1 : 0;
  }
  return out.subarray(0, n);
}

const HIGH_PROFILES = new Set([100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134, 135]);

function skipScalingList(r: Bits, size: number): void {
  let last = 8;
  let next = 8;
  for (let j = 0; j < size; j++) {
    if (next !== 0) {
      next = (last + r.se() + 256) % 256;
    }
    last = next === 0 ? last : next;
  }
}

/** Table E-1: sample aspect ratios 1..16 (255 = given explicitly). */
export const SAR_TABLE: readonly (readonly [number, number])[] = [
  [1, 1],
  [12, 11],
  [10, 11],
  [16, 11],
  [40, 33],
  [24, 11],
  [20, 11],
  [32, 11],
  [80, 33],
  [18, 11],
  [15, 11],
  [64, 33],
  [160, 99],
  [4, 3],
  [3, 2],
  [2, 1],
];

/** A pixel's width over its height; null when the SPS does not say (square). */
export type SampleAspect = readonly [number, number] | null;

/**
 * Reads the colour fields of one SPS NAL unit (starting at its NAL header byte); an SPS without
 * VUI or video signal type says nothing (`described: false`). Throws a RangeError when the bytes
 * are not an SPS or end early.
 */
export function parseSpsColour(nal: Uint8Array): StreamColour {
  return readSps(nal).colour;
}

export interface SpsFacts {
  readonly colour: StreamColour;
  readonly sar: SampleAspect;
  /** frame_mbs_only_flag 0: the stream may hold fields. */
  readonly fields: boolean;
  /** The picture size after cropping (7.4.2.1.1), in luma samples. */
  readonly width: number;
  readonly height: number;
  /** What a slice header needs to be read (7.3.3). */
  readonly slices: SliceSyntax;
}

/** The SPS fields that shape a slice header. */
export interface SliceSyntax {
  readonly id: number;
  readonly separatePlanes: boolean;
  readonly log2MaxFrameNum: number;
  readonly pocType: number;
  readonly log2MaxPocLsb: number;
  /** frame_mbs_only_flag 0. */
  readonly fields: boolean;
  /** mb_adaptive_frame_field_flag: a frame picture's macroblock pairs may be field-coded. */
  readonly mbaff: boolean;
  /** Null when the SPS has no VUI or it ends early. */
  readonly picTiming: PicTimingSyntax | null;
}

/** Reads one SPS NAL unit (from its header byte); throws a RangeError when it is not one. */
export function readSps(nal: Uint8Array): SpsFacts {
  if (nal.length < 4 || (nal[0]! & 0x1f) !== 7) throw new RangeError('not an SPS NAL unit');
  const r = new Bits(nalToRbsp(nal.subarray(1)));
  const profile = r.u(8);
  r.u(8); // constraint flags + reserved
  r.u(8); // level_idc
  const id = r.ue(); // seq_parameter_set_id
  let chromaFormat = 1; // 4:2:0 unless a High profile says otherwise
  let separatePlanes = false;
  if (HIGH_PROFILES.has(profile)) {
    chromaFormat = r.ue();
    if (chromaFormat === 3) separatePlanes = r.u(1) === 1;
    r.ue(); // bit_depth_luma_minus8
    r.ue(); // bit_depth_chroma_minus8
    r.u(1); // qpprime_y_zero_transform_bypass_flag
    if (r.u(1)) {
      // seq_scaling_matrix_present_flag
      const lists = chromaFormat === 3 ? 12 : 8;
      for (let i = 0; i < lists; i++) {
        if (r.u(1)) skipScalingList(r, i < 6 ? 16 : 64);
      }
    }
  }
  const log2MaxFrameNum = r.ue() + 4;
  const pocType = r.ue();
  let log2MaxPocLsb = 0;
  if (pocType === 0) {
    log2MaxPocLsb = r.ue() + 4;
  } else if (pocType === 1) {
    r.u(1); // delta_pic_order_always_zero_flag
    r.se(); // offset_for_non_ref_pic
    r.se(); // offset_for_top_to_bottom_field
    const cycle = r.ue();
    for (let i = 0; i < cycle; i++) r.se();
  }
  r.ue(); // max_num_ref_frames
  r.u(1); // gaps_in_frame_num_value_allowed_flag
  const widthMbs = r.ue() + 1;
  const heightMapUnits = r.ue() + 1;
  // frame_mbs_only_flag, else mb_adaptive_frame_field_flag: 0 means the stream may hold fields
  const fields = r.u(1) === 0;
  const mbaff = fields && r.u(1) === 1;
  r.u(1); // direct_8x8_inference_flag
  // a map unit is a field's macroblock pair row when the stream may hold fields
  let width = widthMbs * 16;
  let height = heightMapUnits * 16 * (fields ? 2 : 1);
  if (r.u(1)) {
    // frame_cropping_flag: left, right, top, bottom offsets in crop units
    const [left, right, top, bottom] = [r.ue(), r.ue(), r.ue(), r.ue()];
    const chromaArray = separatePlanes ? 0 : chromaFormat;
    const unitX = chromaArray === 1 || chromaArray === 2 ? 2 : 1;
    const unitY = (chromaArray === 1 ? 2 : 1) * (fields ? 2 : 1);
    width -= unitX * (left + right);
    height -= unitY * (top + bottom);
  }
  const slices = {
    id,
    separatePlanes,
    log2MaxFrameNum,
    pocType,
    log2MaxPocLsb,
    fields,
    mbaff,
    picTiming: null,
  };
  const size = { fields, width, height };
  if (!r.u(1)) return { colour: UNSAID, sar: null, ...size, slices }; // vui_parameters_present_flag
  let sar: SampleAspect = null;
  if (r.u(1)) {
    // aspect_ratio_info_present_flag
    const idc = r.u(8);
    if (idc === 255) {
      const w = r.u(16); // Extended_SAR: sar_width, sar_height
      const h = r.u(16);
      if (w > 0 && h > 0) sar = [w, h];
    } else if (idc >= 1 && idc <= SAR_TABLE.length) {
      sar = SAR_TABLE[idc - 1]!;
    }
  }
  if (r.u(1)) r.u(1); // overscan_info_present_flag, overscan_appropriate_flag
  let colour: StreamColour = UNSAID;
  if (r.u(1)) {
    // video_signal_type_present_flag
    r.u(3); // video_format
    const fullRange = r.u(1) === 1;
    colour = r.u(1)
      ? { fullRange, described: true, primaries: r.u(8), transfer: r.u(8), matrix: r.u(8) }
      : { ...UNSAID, fullRange };
  }
  let picTiming: PicTimingSyntax | null = null;
  try {
    picTiming = readPicTimingSyntax(r);
  } catch {
    // a VUI that ends early still said its colour and pixel shape
  }
  return { colour, sar, ...size, slices: { ...slices, picTiming } };
}

/** How a picture timing SEI is laid out (D.1.3), from the rest of the VUI (E.1.1). */
export interface PicTimingSyntax {
  /** Bits of cpb_removal_delay and dpb_output_delay before pic_struct (0 without HRD). */
  readonly delayBits: number;
  /** pic_struct_present_flag: the SEI says how the picture is shown (fields, and their order). */
  readonly picStruct: boolean;
}

function readPicTimingSyntax(r: Bits): PicTimingSyntax {
  if (r.u(1)) {
    // chroma_loc_info_present_flag
    r.ue();
    r.ue();
  }
  if (r.u(1)) {
    // timing_info_present_flag: num_units_in_tick, time_scale, fixed_frame_rate_flag
    r.u(32);
    r.u(32);
    r.u(1);
  }
  let delayBits = 0;
  let hrd = false;
  for (let k = 0; k < 2; k++) {
    // nal_hrd_parameters_present_flag, vcl_hrd_parameters_present_flag
    if (!r.u(1)) continue;
    hrd = true;
    const cpbs = r.ue() + 1;
    r.u(8); // bit_rate_scale, cpb_size_scale
    for (let i = 0; i < cpbs; i++) {
      r.ue(); // bit_rate_value_minus1
      r.ue(); // cpb_size_value_minus1
      r.u(1); // cbr_flag
    }
    r.u(5); // initial_cpb_removal_delay_length_minus1
    // (both HRDs give the same lengths when both are present)
    delayBits = r.u(5) + 1 + r.u(5) + 1; // cpb_removal_delay and dpb_output_delay lengths
    r.u(5); // time_offset_length
  }
  if (hrd) r.u(1); // low_delay_hrd_flag
  return { delayBits, picStruct: r.u(1) === 1 };
}

/**
 * The first SPS in an Annex B access unit (start-code delimited NAL units, as a transport
 * stream carries H.264 and no avcC record exists), read; null when there is none or it cannot
 * be read.
 */
export function annexBSps(accessUnit: Uint8Array): SpsFacts | null {
  for (let i = 0; i + 3 < accessUnit.length; i++) {
    if (accessUnit[i] !== 0 || accessUnit[i + 1] !== 0 || accessUnit[i + 2] !== 1) continue;
    const start = i + 3;
    if ((accessUnit[start]! & 0x1f) !== 7) continue;
    let end = start;
    while (end + 2 < accessUnit.length) {
      if (accessUnit[end] === 0 && accessUnit[end + 1] === 0 && accessUnit[end + 2]! <= 1) break;
      end++;
    }
    if (end + 2 >= accessUnit.length) end = accessUnit.length;
    try {
      return readSps(accessUnit.subarray(start, end));
    } catch {
      return null;
    }
  }
  return null;
}

/**
 * The first SPS of an `avcC` box payload (AVCDecoderConfigurationRecord), read. Null when the
 * record holds no SPS or it cannot be read (a damaged record is the decoder's to report, not
 * ours).
 */
function readAvcC(avcC: Uint8Array): SpsFacts | null {
  if (avcC.length < 8 || avcC[0] !== 1) return null;
  if ((avcC[5]! & 0x1f) === 0) return null;
  const len = (avcC[6]! << 8) | avcC[7]!;
  if (8 + len > avcC.length) return null;
  try {
    return readSps(avcC.subarray(8, 8 + len));
  } catch {
    return null;
  }
}

/** The SPS colour of an `avcC` payload (null: no SPS, or unreadable). */
export function avcCColour(avcC: Uint8Array): StreamColour | null {
  return readAvcC(avcC)?.colour ?? null;
}

/** The sample aspect ratio of an `avcC` payload's first SPS (null: square or unreadable). */
export function avcCAspect(avcC: Uint8Array): SampleAspect {
  return readAvcC(avcC)?.sar ?? null;
}

/**
 * Whether an `avcC` payload's first SPS allows field coding (frame_mbs_only_flag 0): what
 * interlaced H.264 (camcorders, broadcast, DVD-era transfers) has; x264 sets it only for
 * interlaced encodes. False when unreadable.
 */
export function avcCFieldCoded(avcC: Uint8Array): boolean {
  return readAvcC(avcC)?.fields ?? false;
}

/** The summary's note for H.264 that may hold fields. */
export const INTERLACED_NOTE =
  'This video may be interlaced (each frame two fields from different moments): by default ' +
  'Upframe deinterlaces it before enhancing, one frame for each frame, where the stream marks ' +
  'the pictures as fields (for video that is progressive after all: Deinterlace "Off" in the ' +
  "page's settings, --deinterlace off on the command line).";

/** Whether an opened file's video may hold fields (its reader added INTERLACED_NOTE). */
export function mayHoldFields(input: { readonly warnings: readonly string[] }): boolean {
  return input.warnings.includes(INTERLACED_NOTE);
}

/** Whether a decoder configuration is H.264 whose SPS allows fields (avcCFieldCoded). */
export function mayBeInterlaced(config: VideoDecoderConfig): boolean {
  const d = config.description;
  if (!d || !/^avc[13]/.test(config.codec)) return false;
  const bytes = ArrayBuffer.isView(d)
    ? new Uint8Array(d.buffer, d.byteOffset, d.byteLength)
    : new Uint8Array(d);
  return avcCFieldCoded(bytes);
}
