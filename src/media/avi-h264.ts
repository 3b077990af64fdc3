/**
 * H.264 in AVI (dashcams, screen recorders, older phones). AVI gives each chunk a place in
 * decode order and no display time. Without B-frames (what these devices write) that is the
 * display order. When the first pictures show B-frames (x264's default, as ffmpeg writes an AVI
 * from it), each picture's display place comes from the picture order count in its slice header
 * (`ParameterSets`, `displayPlaces`); a stream whose counts cannot be read is refused with the
 * remux command that gives the frames their times (ffmpeg reads the order from the stream).
 *
 * The stream is Annex B (start codes) as ffmpeg and most devices write it, or length-prefixed
 * after an avcC record in the stream format's extra data (some older muxers).
 */
import { UpframeError } from '../shared/errors.ts';
import { nalUnits } from './h264-field-order.ts';
import { annexBSps, nalToRbsp, type SliceSyntax, type SpsFacts } from './h264-sps.ts';
import { Bits, resolveColorSpace } from './stream-colour.ts';

/** FourCCs (upper-cased) of H.264 in AVI. */
export const H264_FOURCCS: ReadonlySet<string> = new Set(['H264', 'X264', 'AVC1', 'DAVC', 'VSSH']);

/** How many of the first pictures are looked at for B-frames. */
export const B_FRAME_PROBE = 120;

export interface AviH264 {
  readonly config: VideoDecoderConfig;
  /**
   * With B-frames: each chunk's display slot (its frame number in time), by its order count;
   * null for an empty chunk. Absent when the stored order is the display order.
   */
  readonly places?: readonly (number | null)[];
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

/** Whether extra data is an avcC record (version 1, at least one SPS that fits). */
function isAvcC(extradata: Uint8Array): boolean {
  if (extradata.length < 8 || extradata[0] !== 1 || (extradata[5]! & 0x1f) === 0) return false;
  return 8 + ((extradata[6]! << 8) | extradata[7]!) <= extradata.length;
}

/** The NAL length field size of packets after an avcC record, or 0 (Annex B). */
export function avcCLengthSize(extradata: Uint8Array): number {
  return isAvcC(extradata) ? (extradata[4]! & 3) + 1 : 0;
}

/**
 * What a chunk of H.264 is: an IDR picture (where decoding can start), another picture, one
 * with a B slice, or parameter sets alone. Null when `head` (its first bytes; `whole` when
 * they are all of it) ends before its first slice says.
 */
export type PictureKind = 'idr' | 'picture' | 'b' | 'params';

export function pictureKind(
  head: Uint8Array,
  lengthSize: number,
  whole: boolean,
): PictureKind | null {
  const units = nalUnits(head, lengthSize);
  const types = units.map((u) => u[0]! & 0x1f);
  if (types.includes(5)) return 'idr';
  if (types.includes(1)) return hasBSlice(head, lengthSize) ? 'b' : 'picture';
  if (whole && (types.includes(7) || types.includes(8))) return 'params';
  return null;
}

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
  inBandSets: Uint8Array | null,
  bihSize: { width: number; height: number },
): AviH264 {
  const avcC = isAvcC(extradata) ? extradata : null;
  const lengthSize = avcC ? (avcC[4]! & 3) + 1 : 0;
  let spsUnit: Uint8Array | null = null;
  let facts: SpsFacts | null = null;
  if (avcC && avcC.length >= 8 && (avcC[5]! & 0x1f) > 0) {
    const len = (avcC[6]! << 8) | avcC[7]!;
    spsUnit = avcC.subarray(8, 8 + len);
  } else if (!avcC) {
    spsUnit =
      firstSpsUnit(extradata, 0) ??
      (inBandSets ? firstSpsUnit(inBandSets, 0) : null) ??
      (firstKey ? firstSpsUnit(firstKey, 0) : null);
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
  // parameter sets outside the pictures: in the stream format, or in chunks of their own
  const sets = avcC
    ? null
    : firstSpsUnit(extradata, 0)
      ? extradata
      : inBandSets && firstSpsUnit(inBandSets, 0)
        ? inBandSets
        : null;
  return {
    withParameterSets: sets ? (picture) => withSets(picture, sets) : null,
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

/**
 * An Annex B IDR picture with `sets` (Annex B SPS and PPS) just before its first slice when it
 * carries no SPS of its own: after whatever opens the access unit (a delimiter, SEI), as the
 * order of units in an access unit requires. Other pictures are returned as they are; only the
 * units up to the first slice are looked at. (Bytes before the first start code are dropped.)
 */
function withSets(picture: Uint8Array<ArrayBuffer>, sets: Uint8Array): Uint8Array<ArrayBuffer> {
  // the units before the first slice: [start code position, type]
  const before: [number, number][] = [];
  for (let i = 0; i + 3 < picture.length; i++) {
    if (picture[i] !== 0 || picture[i + 1] !== 0 || picture[i + 2] !== 1) continue;
    const type = picture[i + 3]! & 0x1f;
    const at = i > 0 && picture[i - 1] === 0 ? i - 1 : i;
    if (type === 7 || type === 1) return picture;
    if (type === 5) {
      // a delimiter that does not open the access unit (x264's SEI ahead of it) is dropped:
      // a decoder takes it for the start of the next one
      const parts: Uint8Array[] = [];
      before.forEach(([from, t], k) => {
        if (t !== 9 || k === 0) parts.push(picture.subarray(from, before[k + 1]?.[0] ?? at));
      });
      parts.push(sets, picture.subarray(at));
      const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
      let w = 0;
      for (const p of parts) {
        out.set(p, w);
        w += p.length;
      }
      return out;
    }
    before.push([at, type]);
    i += 3;
  }
  return picture;
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

/** Whether a picture (its first bytes) has a B slice (slice_type 1 or 6). */
function hasBSlice(head: Uint8Array, lengthSize: number): boolean {
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
    "This AVI file's H.264 video has B-frames whose display order cannot be read from it (AVI " +
      'keeps none, and its order counts are not of the usual kind): remux it ' +
      'to MP4 first (ffmpeg -i in.avi -c copy out.mp4 changes no frame).',
  );
}

/** The parameter sets a slice header needs, gathered from the stream as it goes. */
export class ParameterSets {
  private readonly sps = new Map<number, SliceSyntax>();
  /** PPS id -> SPS id. */
  private readonly pps = new Map<number, number>();

  /** Reads every SPS and PPS among the units of `bytes`. */
  add(bytes: Uint8Array, lengthSize: number): void {
    for (const unit of nalUnits(bytes, lengthSize)) {
      const type = unit[0]! & 0x1f;
      try {
        if (type === 7) {
          const facts = annexBSps(Uint8Array.from([0, 0, 1, ...unit]));
          if (facts) this.sps.set(facts.slices.id, facts.slices);
        } else if (type === 8) {
          const r = new Bits(nalToRbsp(unit.subarray(1, 16)));
          const id = r.ue();
          this.pps.set(id, r.ue());
        }
      } catch {
        // a set cut short is skipped
      }
    }
  }

  /**
   * The picture order count fields of the first slice in `head` (7.3.3): whether it is a
   * reference picture, and its pic_order_cnt_lsb with MaxPicOrderCntLsb. Null when the
   * stream's order counts are not of type 0 (types 1 and 2 are read in decode order) or the
   * header cannot be read.
   */
  orderCount(
    head: Uint8Array,
    lengthSize: number,
  ): { reference: boolean; idr: boolean; lsb: number; max: number } | null {
    const unit = slices(head, lengthSize)[0];
    if (!unit) return null;
    try {
      const r = new Bits(nalToRbsp(unit.subarray(1, 40)));
      r.ue(); // first_mb_in_slice
      r.ue(); // slice_type
      const spsId = this.pps.get(r.ue());
      const s = spsId === undefined ? undefined : this.sps.get(spsId);
      if (!s || s.pocType !== 0) return null;
      if (s.separatePlanes) r.u(2); // colour_plane_id
      r.u(s.log2MaxFrameNum); // frame_num
      if (s.fields && r.u(1)) r.u(1); // field_pic_flag, bottom_field_flag
      const idr = (unit[0]! & 0x1f) === 5;
      if (idr) r.ue(); // idr_pic_id
      return {
        reference: (unit[0]! & 0x60) !== 0,
        idr,
        lsb: r.u(s.log2MaxPocLsb),
        max: 2 ** s.log2MaxPocLsb,
      };
    } catch {
      return null;
    }
  }
}

/**
 * The display place of each picture, from the order counts of pictures given in decode order
 * (8.2.1.1, type 0): within each run from an IDR picture to the next, the pictures are shown in
 * the order of their counts, so picture k's place is the run's first place plus its rank.
 * Null entries (a count that could not be read) make the whole answer null.
 */
export function displayPlaces(
  counts: readonly ({ reference: boolean; idr: boolean; lsb: number; max: number } | null)[],
): number[] | null {
  const places = new Array<number>(counts.length);
  let prevMsb = 0;
  let prevLsb = 0;
  let run: { k: number; poc: number }[] = [];
  let runStart = 0;
  const close = (): void => {
    run.sort((a, b) => a.poc - b.poc);
    run.forEach(({ k }, rank) => (places[k] = runStart + rank));
  };
  for (let k = 0; k < counts.length; k++) {
    const c = counts[k];
    if (!c) return null;
    if (c.idr) {
      close();
      run = [];
      runStart = k;
      prevMsb = 0;
      prevLsb = 0;
    }
    let msb = prevMsb;
    if (c.lsb < prevLsb && prevLsb - c.lsb >= c.max / 2) msb = prevMsb + c.max;
    else if (c.lsb > prevLsb && c.lsb - prevLsb > c.max / 2) msb = prevMsb - c.max;
    run.push({ k, poc: msb + c.lsb });
    if (c.reference) {
      prevMsb = msb;
      prevLsb = c.lsb;
    }
  }
  close();
  return places;
}
