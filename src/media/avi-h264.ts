/**
 * H.264 in AVI (dashcams, screen recorders, older phones). AVI gives each chunk a place in
 * decode order and no display time, so the frames are shown in the order they are stored: right
 * for video without B-frames, which is what these devices write. Video with B-frames (x264's
 * default) is refused when its first pictures show them, with the remux command that gives the
 * frames their times (ffmpeg reads the order from the stream).
 *
 * The stream is Annex B (start codes) as ffmpeg and most devices write it, or length-prefixed
 * after an avcC record in the stream format's extra data (some older muxers).
 */
import { UpframeError } from '../shared/errors.ts';
import { nalUnits } from './h264-field-order.ts';
import { annexBSps, nalToRbsp, type SpsFacts } from './h264-sps.ts';
import { Bits, resolveColorSpace } from './stream-colour.ts';

/** FourCCs (upper-cased) of H.264 in AVI. */
export const H264_FOURCCS: ReadonlySet<string> = new Set(['H264', 'X264', 'AVC1', 'DAVC', 'VSSH']);

/** How many of the first pictures are looked at for B-frames. */
export const B_FRAME_PROBE = 120;

export interface AviH264 {
  readonly config: VideoDecoderConfig;
  /**
   * For Annex B parameter sets kept only in the stream format (ffmpeg's global header): puts
   * them in front of each IDR picture that does not carry its own, as a decoder without a
   * description needs them there. Null when the pictures are read as they are.
   */
  readonly withParameterSets:
    ((picture: Uint8Array<ArrayBuffer>) => Uint8Array<ArrayBuffer>) | null;
  /** NAL unit length field size in the packets, or 0 for Annex B. */
  readonly lengthSize: number;
  readonly width: number;
  readonly height: number;
}

const hex = (v: number): string => v.toString(16).padStart(2, '0');

/** The codec string of an SPS unit (its header byte, then profile, constraints, level). */
function codecOf(sps: Uint8Array): string {
  return `avc1.${hex(sps[1]!)}${hex(sps[2]!)}${hex(sps[3]!)}`;
}

/** The first SPS unit of Annex B bytes, or null. */
function firstSpsUnit(bytes: Uint8Array, lengthSize: number): Uint8Array | null {
  return nalUnits(bytes, lengthSize).find((u) => (u[0]! & 0x1f) === 7 && u.length >= 4) ?? null;
}

/**
 * The decoder configuration of an AVI H.264 stream from its extra data (an avcC record or Annex
 * B parameter sets) or else its first key picture. `bihSize`: the width and height the stream
 * header gives, used when the SPS cannot be read.
 */
export function aviH264(
  extradata: Uint8Array,
  firstKey: Uint8Array | null,
  bihSize: { width: number; height: number },
): AviH264 {
  const avcC = extradata.length >= 7 && extradata[0] === 1 ? extradata : null;
  const lengthSize = avcC ? (avcC[4]! & 3) + 1 : 0;
  let spsUnit: Uint8Array | null = null;
  let facts: SpsFacts | null = null;
  if (avcC && avcC.length >= 8 && (avcC[5]! & 0x1f) > 0) {
    const len = (avcC[6]! << 8) | avcC[7]!;
    spsUnit = avcC.subarray(8, 8 + len);
  } else if (!avcC) {
    spsUnit = firstSpsUnit(extradata, 0) ?? (firstKey ? firstSpsUnit(firstKey, 0) : null);
  }
  if (spsUnit) {
    // annexBSps reads an SPS from start-code framed bytes
    facts = annexBSps(Uint8Array.from([0, 0, 1, ...spsUnit]));
  }
  if (!spsUnit || spsUnit.length < 4) {
    throw new UpframeError(
      'CORRUPT_INPUT',
      'This AVI file looks damaged: its H.264 video has no sequence parameter set to start from.',
    );
  }
  const width = facts?.width || bihSize.width;
  const height = facts?.height || bihSize.height;
  const colorSpace = resolveColorSpace(null, facts?.colour ?? null, width, height);
  const sets = !avcC && firstSpsUnit(extradata, 0) ? extradata : null;
  return {
    withParameterSets: sets
      ? (picture) => {
          const units = nalUnits(picture, 0).map((u) => u[0]! & 0x1f);
          if (!units.includes(5) || units.includes(7)) return picture;
          const out = new Uint8Array(sets.length + picture.length);
          out.set(sets);
          out.set(picture, sets.length);
          return out;
        }
      : null,
    config: {
      codec: codecOf(spsUnit),
      codedWidth: width,
      codedHeight: height,
      ...(avcC ? { description: avcC } : {}),
      ...(colorSpace ? { colorSpace } : {}),
    },
    lengthSize,
    width,
    height,
  };
}

/** The slice units (types 1 and 5) at the start of a picture's bytes. */
function slices(head: Uint8Array, lengthSize: number): Uint8Array[] {
  return nalUnits(head, lengthSize).filter((u) => {
    const type = u[0]! & 0x1f;
    return type === 1 || type === 5;
  });
}

/** Whether a picture's first bytes reach its first slice header. */
export function firstSliceIn(head: Uint8Array, lengthSize: number): boolean {
  return slices(head, lengthSize).some((u) => u.length >= 8);
}

/** Whether a picture (its first bytes) is an IDR picture, where decoding can start. */
export function isIdr(head: Uint8Array, lengthSize: number): boolean {
  return nalUnits(head, lengthSize).some((u) => (u[0]! & 0x1f) === 5);
}

/** Whether a picture (its first bytes) has a B slice (slice_type 1 or 6). */
export function hasBSlice(head: Uint8Array, lengthSize: number): boolean {
  for (const unit of slices(head, lengthSize)) {
    try {
      const r = new Bits(nalToRbsp(unit.subarray(1, 24)));
      r.ue(); // first_mb_in_slice
      if (r.ue() % 5 === 1) return true;
    } catch {
      // a header cut short says nothing
    }
  }
  return false;
}

export function bFramesError(): UpframeError {
  return new UpframeError(
    'UNSUPPORTED_CODEC',
    "This AVI file's H.264 video has B-frames, whose display order AVI does not keep: remux it " +
      'to MP4 first (ffmpeg -i in.avi -c copy out.mp4 changes no frame).',
  );
}
