/**
 * The colour signalling of a VP9 stream: color_config() in a key frame's uncompressed header (VP9
 * bitstream specification 6.2 and 7.2), or the codes of an MP4 `vpcC` record (VP-Codec ISO
 * Media File Format Binding, version 1). Why: stream-colour.ts. Chromium 156 decodes an untagged
 * VP9 stream at every size as BT.601 when its codec string names the colour codes as unspecified
 * (as mediabunny's does for WebM) and as BT.709 when it is the short form (as mp4box's is), where
 * players take BT.601 for standard definition and BT.709 above (measured on a flat 720p and a
 * flat 320x180 frame).
 */
import { Bits, UNSAID, type StreamColour } from './stream-colour.ts';

/**
 * VP9's color_space (3 bits) as ISO/IEC 23091-2 matrix codes, as ffmpeg maps them (except
 * CS_RESERVED, which is unspecified here): CS_UNKNOWN, CS_BT_601 (bt470bg), CS_BT_709,
 * CS_SMPTE_170, CS_SMPTE_240, CS_BT_2020, CS_RESERVED, CS_RGB.
 */
const MATRIX_OF_COLOR_SPACE = [2, 5, 1, 6, 7, 9, 2, 0] as const;
const CS_UNKNOWN = 0;
const CS_BT_2020 = 5;
const CS_RGB = 7;

/**
 * Reads color_config() from a VP9 frame (the first frame of a superframe is at its start).
 * Null when the frame is not a key frame or is too short to hold the header. VP9 names only the
 * matrix; primaries stay unspecified (2, for the caller to fill in) except for BT.2020, whose
 * matrix implies its primaries (so the HDR warning sees them); the transfer stays unspecified.
 */
export function vp9FrameColour(frame: Uint8Array): StreamColour | null {
  try {
    const r = new Bits(frame);
    if (r.u(2) !== 2) return null; // frame_marker
    const low = r.u(1);
    const profile = (r.u(1) << 1) | low;
    if (profile === 3) r.u(1); // reserved_zero
    if (r.u(1) === 1) return null; // show_existing_frame: no header of its own
    if (r.u(1) !== 0) return null; // frame_type: only a key frame carries color_config
    r.u(2); // show_frame, error_resilient_mode
    if (r.u(8) !== 0x49 || r.u(8) !== 0x83 || r.u(8) !== 0x42) return null; // frame_sync_code
    if (profile >= 2) r.u(1); // ten_or_twelve_bit
    const colorSpace = r.u(3);
    const fullRange = colorSpace === CS_RGB ? true : r.u(1) === 1;
    if (colorSpace === CS_UNKNOWN) return { ...UNSAID, fullRange };
    return {
      fullRange,
      described: true,
      primaries: colorSpace === CS_BT_2020 ? 9 : 2,
      transfer: 2,
      matrix: MATRIX_OF_COLOR_SPACE[colorSpace]!,
    };
  } catch (err) {
    if (err instanceof RangeError) return null;
    throw err;
  }
}

/**
 * The colour codes of a `vpcC` box (version 1), from its payload after the full-box header as the
 * MP4 reader reads it: profile, level, bitDepth(4) chromaSubsampling(3) videoFullRangeFlag(1),
 * then primaries, transfer and matrix, a byte each. Null for a payload too short. (The draft
 * version 0 lays these out differently; the reader does not pass one here.)
 */
export function vpcCColour(payload: Uint8Array): StreamColour | null {
  if (payload.length < 6) return null;
  const primaries = payload[3]!;
  const transfer = payload[4]!;
  const matrix = payload[5]!;
  return {
    fullRange: (payload[2]! & 1) === 1,
    described: primaries !== 2 || transfer !== 2 || matrix !== 2,
    primaries,
    transfer,
    matrix,
  };
}
