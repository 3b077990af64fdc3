/**
 * The colour signalling of an AV1 stream, read from the sequence header OBU that an `av1C` record
 * (AV1-ISOBMFF section 2.3; Matroska's CodecPrivate holds the same record) carries in its
 * configOBUs: AV1 specification sections 5.5.1-5.5.2 up to color_config(). Why: stream-colour.ts.
 */
import { Bits, UNSAID, type StreamColour } from './stream-colour.ts';

const OBU_SEQUENCE_HEADER = 1;

/** Reads color_config() of a sequence header OBU payload. Throws a RangeError if it ends early. */
export function parseSequenceHeaderColour(payload: Uint8Array): StreamColour {
  const r = new Bits(payload);
  const profile = r.u(3);
  r.u(1); // still_picture
  const reduced = r.u(1) === 1; // reduced_still_picture_header
  if (reduced) {
    r.u(5); // seq_level_idx[0]
  } else {
    let decoderModel = false;
    let bufferDelayBits = 0;
    if (r.u(1)) {
      // timing_info_present_flag: timing_info()
      r.u(32); // num_units_in_display_tick
      r.u(32); // time_scale
      if (r.u(1)) uvlc(r); // equal_picture_interval: num_ticks_per_picture_minus_1
      decoderModel = r.u(1) === 1; // decoder_model_info_present_flag
      if (decoderModel) {
        bufferDelayBits = r.u(5) + 1; // buffer_delay_length_minus_1
        r.u(32); // num_units_in_decoding_tick
        r.u(5); // buffer_removal_time_length_minus_1
        r.u(5); // frame_presentation_time_length_minus_1
      }
    }
    const initialDisplayDelay = r.u(1) === 1;
    const points = r.u(5) + 1; // operating_points_cnt_minus_1
    for (let i = 0; i < points; i++) {
      r.u(12); // operating_point_idc
      if (r.u(5) > 7) r.u(1); // seq_level_idx, seq_tier
      if (decoderModel && r.u(1)) {
        // decoder_model_present_for_this_op: operating_parameters_info()
        r.u(bufferDelayBits); // decoder_buffer_delay
        r.u(bufferDelayBits); // encoder_buffer_delay
        r.u(1); // low_delay_mode_flag
      }
      if (initialDisplayDelay && r.u(1)) r.u(4); // initial_display_delay_minus_1
    }
  }
  const widthBits = r.u(4) + 1;
  const heightBits = r.u(4) + 1;
  r.u(widthBits); // max_frame_width_minus_1
  r.u(heightBits); // max_frame_height_minus_1
  if (!reduced && r.u(1)) {
    // frame_id_numbers_present_flag
    r.u(4); // delta_frame_id_length_minus_2
    r.u(3); // additional_frame_id_length_minus_1
  }
  r.u(3); // use_128x128_superblock, enable_filter_intra, enable_intra_edge_filter
  if (!reduced) {
    r.u(4); // interintra, masked compound, warped motion, dual filter
    const orderHint = r.u(1) === 1;
    if (orderHint) r.u(2); // enable_jnt_comp, enable_ref_frame_mvs
    // seq_choose_screen_content_tools, else seq_force_screen_content_tools
    const screenContent = r.u(1) === 1 ? 2 : r.u(1);
    if (screenContent > 0 && r.u(1) === 0) r.u(1); // seq_choose_integer_mv, seq_force_integer_mv
    if (orderHint) r.u(3); // order_hint_bits_minus_1
  }
  r.u(3); // enable_superres, enable_cdef, enable_restoration
  // color_config()
  const highBitdepth = r.u(1) === 1;
  if (profile === 2 && highBitdepth) r.u(1); // twelve_bit
  const mono = profile === 1 ? false : r.u(1) === 1;
  if (!r.u(1)) {
    // color_description_present_flag
    return { ...UNSAID, fullRange: r.u(1) === 1 };
  }
  const primaries = r.u(8);
  const transfer = r.u(8);
  const matrix = r.u(8);
  // sRGB (BT.709 primaries, sRGB transfer, identity matrix) is full range by definition
  const srgb = !mono && primaries === 1 && transfer === 13 && matrix === 0;
  const fullRange = srgb ? true : r.u(1) === 1;
  return { fullRange, described: true, primaries, transfer, matrix };
}

/** uvlc(): leading zeros, then that many bits. */
function uvlc(r: Bits): number {
  let zeros = 0;
  while (r.bit() === 0) {
    zeros++;
    if (zeros >= 32) return 2 ** 32 - 1;
  }
  return 2 ** zeros - 1 + r.u(zeros);
}

/** leb128() at `pos`: [value, bytes read]. */
function leb128(bytes: Uint8Array, pos: number): [number, number] {
  let value = 0;
  for (let i = 0; i < 8; i++) {
    if (pos + i >= bytes.length) throw new RangeError('OBU size ends early');
    const b = bytes[pos + i]!;
    value += (b & 0x7f) * 2 ** (7 * i);
    if (!(b & 0x80)) return [value, i + 1];
  }
  throw new RangeError('OBU size too long');
}

/**
 * The colour of the sequence header among an `av1C` record's configOBUs. Null when the record
 * holds no sequence header or it cannot be read (the decoder then keeps its own defaults).
 */
export function av1CColour(av1C: Uint8Array): StreamColour | null {
  // marker (1) + version (7) = 0x81; then 3 bytes of profile/level/flags; configOBUs follow
  if (av1C.length < 5 || av1C[0] !== 0x81) return null;
  try {
    let pos = 4;
    while (pos < av1C.length) {
      const header = av1C[pos]!;
      const type = (header >> 3) & 0x0f;
      const extension = (header >> 2) & 1;
      const hasSize = (header >> 1) & 1;
      pos += 1 + extension;
      let size = av1C.length - pos;
      if (hasSize) {
        const [value, n] = leb128(av1C, pos);
        size = value;
        pos += n;
      }
      if (type === OBU_SEQUENCE_HEADER) {
        return parseSequenceHeaderColour(av1C.subarray(pos, pos + size));
      }
      pos += size;
    }
    return null;
  } catch {
    return null;
  }
}
