/**
 * Which field of interlaced H.264 comes first, from its first picture, decided as ffmpeg does:
 * the picture timing SEI's pic_struct when the SPS's VUI says there is one (D.2.3: top then
 * bottom, or bottom then top), else the slice header (7.3.3): a field picture's
 * bottom_field_flag, or a frame picture's picture order counts (delta_pic_order_cnt_bottom
 * negative: the bottom field is earlier). x264 writes pic_struct for interlaced encodes, but its
 * order counts follow the input frames' own field flags, which are often unset, so the SEI has
 * to come first. HD and AVCHD video is top field first; bottom-first video is mostly SD from DV
 * (NTSC) and some SD camcorders. A stream that says neither is taken as top first, as ffmpeg
 * takes it.
 */
import type { FieldOrder, PictureScan } from '../shared/deinterlace-rows.ts';
import { nalToRbsp, readSps, type SliceSyntax } from './h264-sps.ts';
import { Bits } from './stream-colour.ts';

export type { FieldOrder, PictureScan };

/** NAL units of an access unit: length-prefixed with `lengthSize` bytes, or Annex B when 0. */
export function nalUnits(bytes: Uint8Array, lengthSize: number): Uint8Array[] {
  return [...eachNalUnit(bytes, lengthSize, false)];
}

/**
 * The NAL units of an access unit one by one. With `sliceOpen`, a slice (types 1 and 5) is
 * given from its start to the end of `bytes` without looking for its end: a reader that only
 * needs its header then never scans the picture's data for the next start code.
 */
function* eachNalUnit(
  bytes: Uint8Array,
  lengthSize: number,
  sliceOpen: boolean,
): Generator<Uint8Array> {
  if (lengthSize > 0) {
    let at = 0;
    while (at + lengthSize <= bytes.length) {
      let size = 0;
      for (let k = 0; k < lengthSize; k++) size = size * 256 + bytes[at + k]!;
      at += lengthSize;
      if (size === 0) continue;
      // a unit cut short (only the start of a sample was read) keeps what there is
      yield bytes.subarray(at, Math.min(at + size, bytes.length));
      at += size;
    }
    return;
  }
  let start = -1;
  for (let i = 0; i + 2 < bytes.length; i++) {
    if (bytes[i] !== 0 || bytes[i + 1] !== 0 || bytes[i + 2] !== 1) continue;
    if (start >= 0) {
      // the unit ends before this start code (and before a fourth zero byte leading it)
      const end = i > start && bytes[i - 1] === 0 ? i - 1 : i;
      yield bytes.subarray(start, end);
    }
    start = i + 3;
    i += 2;
    const type = (bytes[start] ?? 0) & 0x1f;
    if (sliceOpen && (type === 1 || type === 5)) {
      yield bytes.subarray(start);
      return;
    }
  }
  if (start >= 0 && start < bytes.length) yield bytes.subarray(start);
}

/** The SPS and PPS units of an avcC record, and the length of its samples' NAL size fields. */
function avcCUnits(avcC: Uint8Array): { lengthSize: number; units: Uint8Array[] } | null {
  if (avcC.length < 7 || avcC[0] !== 1) return null;
  const units: Uint8Array[] = [];
  let at = 5;
  const read = (count: number): boolean => {
    for (let k = 0; k < count; k++) {
      if (at + 2 > avcC.length) return false;
      const size = (avcC[at]! << 8) | avcC[at + 1]!;
      at += 2;
      if (at + size > avcC.length) return false;
      units.push(avcC.subarray(at, at + size));
      at += size;
    }
    return true;
  };
  if (!read(avcC[at++]! & 0x1f)) return null;
  if (at < avcC.length && !read(avcC[at++]!)) return null;
  return { lengthSize: (avcC[4]! & 3) + 1, units };
}

interface PpsFacts {
  readonly spsId: number;
  /** bottom_field_pic_order_in_frame_present_flag. */
  readonly bottomPoc: boolean;
}

function readPps(nal: Uint8Array): { id: number; facts: PpsFacts } {
  const r = new Bits(nalToRbsp(nal.subarray(1)));
  const id = r.ue();
  const spsId = r.ue();
  r.u(1); // entropy_coding_mode_flag
  return { id, facts: { spsId, bottomPoc: r.u(1) === 1 } };
}

/** A slice header read up to its pic_parameter_set_id, and the parameter sets it refers to. */
interface SliceStart {
  readonly r: Bits;
  readonly p: PpsFacts;
  readonly s: SliceSyntax;
}

function sliceStart(
  nal: Uint8Array,
  pps: ReadonlyMap<number, PpsFacts>,
  sps: ReadonlyMap<number, SliceSyntax>,
): SliceStart | null {
  const r = new Bits(nalToRbsp(nal.subarray(1)));
  r.ue(); // first_mb_in_slice
  r.ue(); // slice_type
  const p = pps.get(r.ue());
  const s = p ? sps.get(p.spsId) : undefined;
  return p && s ? { r, p, s } : null;
}

/** What a slice header says of its picture's fields (7.3.3). */
interface SliceFields {
  /** field_pic_flag with bottom_field_flag; null for a frame picture. */
  readonly field: 'top' | 'bottom' | null;
  /** A frame's delta_pic_order_cnt_bottom: negative, the bottom field is earlier (null: none). */
  readonly pocOrder: FieldOrder | null;
}

function sliceFields(nal: Uint8Array, { r, p, s }: SliceStart): SliceFields {
  if (!s.fields) return { field: null, pocOrder: null };
  if (s.separatePlanes) r.u(2); // colour_plane_id
  r.u(s.log2MaxFrameNum); // frame_num
  if (r.u(1)) return { field: r.u(1) ? 'bottom' : 'top', pocOrder: null }; // field_pic_flag
  if ((nal[0]! & 0x1f) === 5) r.ue(); // idr_pic_id
  if (s.pocType !== 0 || !p.bottomPoc) return { field: null, pocOrder: null };
  r.u(s.log2MaxPocLsb); // pic_order_cnt_lsb
  const delta = r.se(); // delta_pic_order_cnt_bottom
  return { field: null, pocOrder: delta < 0 ? 'bottom-first' : delta > 0 ? 'top-first' : null };
}

/** The pic_struct of a picture timing SEI in `nal` (D.2.3), or null when it holds none. */
function seiPicStruct(nal: Uint8Array, s: SliceSyntax): number | null {
  const timing = s.picTiming;
  if (!s.fields || !timing?.picStruct) return null;
  const b = nalToRbsp(nal.subarray(1));
  // payloadType and payloadSize: 0xff bytes of 255 each, then the last byte
  const value = (from: number): [number, number] => {
    let v = 0;
    let at = from;
    while (b[at] === 0xff) {
      v += 255;
      at++;
    }
    if (at >= b.length) throw new RangeError('SEI ends early');
    return [v + b[at]!, at + 1];
  };
  let at = 0;
  // messages until the rbsp trailing bits (0x80)
  while (at < b.length && !(at === b.length - 1 && b[at] === 0x80)) {
    const [type, afterType] = value(at);
    const [size, start] = value(afterType);
    if (type === 1) {
      const r = new Bits(b.subarray(start, start + size));
      r.u(timing.delayBits); // cpb_removal_delay, dpb_output_delay
      return r.u(4);
    }
    at = start + size;
  }
  return null;
}

/** What one access unit says of how it is shown. */
interface PictureFacts {
  /** The SPS allows fields (frame_mbs_only_flag 0); when not, the rest says nothing. */
  readonly fields: boolean;
  /** pic_struct of its picture timing SEI, when the SPS says there is one. */
  readonly picStruct: number | null;
  readonly slice: SliceFields;
  /** A frame picture whose macroblock pairs may be field-coded (MBAFF). */
  readonly mbaff: boolean;
}

/** pic_struct 3 and 5 show the top field first, 4 and 6 the bottom one (D.2.3). */
function picStructOrder(picStruct: number | null): FieldOrder | null {
  if (picStruct === 3 || picStruct === 5) return 'top-first';
  return picStruct === 4 || picStruct === 6 ? 'bottom-first' : null;
}

/**
 * Parameter sets as a stream gives them (its avcC record, then in-band ones), and the first
 * slice of each access unit read against them.
 */
class AccessUnits {
  private readonly sps = new Map<number, SliceSyntax>();
  private readonly pps = new Map<number, PpsFacts>();
  private readonly lengthSize: number;
  readonly valid: boolean;

  constructor(avcC: Uint8Array | null) {
    const record = avcC ? avcCUnits(avcC) : null;
    this.valid = !avcC || record !== null;
    this.lengthSize = record?.lengthSize ?? 0;
    for (const nal of record?.units ?? []) this.parameterSet(nal);
  }

  /** The facts of the access unit `sample` (only its start is needed), or null when unreadable. */
  read(sample: Uint8Array): PictureFacts | null {
    if (!this.valid) return null;
    const seis: Uint8Array[] = [];
    try {
      for (const nal of eachNalUnit(sample, this.lengthSize, true)) {
        if (nal.length < 2) continue;
        const type = nal[0]! & 0x1f;
        if (type === 7 || type === 8) this.parameterSet(nal);
        else if (type === 6) seis.push(nal);
        else if (type === 1 || type === 5) {
          const start = sliceStart(nal, this.pps, this.sps);
          if (!start) return null;
          let picStruct: number | null = null;
          for (const sei of seis) picStruct ??= seiPicStruct(sei, start.s);
          const slice = sliceFields(nal, start);
          return {
            fields: start.s.fields,
            picStruct,
            slice,
            mbaff: start.s.mbaff && slice.field === null,
          };
        }
      }
    } catch {
      // a header that ends early or is not what it says: the unit does not say
    }
    return null;
  }

  private parameterSet(nal: Uint8Array): void {
    try {
      if ((nal[0]! & 0x1f) === 7) {
        const facts = readSps(nal).slices;
        this.sps.set(facts.id, facts);
      } else {
        const { id, facts } = readPps(nal);
        this.pps.set(id, facts);
      }
    } catch {
      // a parameter set that cannot be read is left out
    }
  }
}

/**
 * The field order of an H.264 stream from its first access unit (`sample`, length-prefixed as
 * `avcC` says, or Annex B when there is no avcC record; only its start is needed). Null when it
 * does not say, is progressive, or cannot be read.
 */
export function h264FieldOrder(sample: Uint8Array, avcC: Uint8Array | null): FieldOrder | null {
  const facts = new AccessUnits(avcC).read(sample);
  if (!facts?.fields) return null;
  // as ffmpeg: the picture timing SEI's pic_struct first, else the slice's own fields
  const { field, pocOrder } = facts.slice;
  return (
    picStructOrder(facts.picStruct) ??
    (field === 'bottom' ? 'bottom-first' : field === 'top' ? 'top-first' : pocOrder)
  );
}

/**
 * Reads, picture by picture, whether interlaced H.264 shows each one as fields (and in which
 * order) or as a progressive frame, as ffmpeg marks its frames (interlaced_frame,
 * top_field_first): with a picture timing SEI, its pic_struct (0, 7 and 8 a frame; 1 and 2 a
 * field; 3 to 6 two fields, which a frame picture that is not MBAFF-coded only is when the
 * picture before was interlaced); without one, a field or MBAFF-coded picture is interlaced.
 * Streams that allow fields yet code progressive frames (x264's --fake-interlaced, the Blu-ray
 * way of storing 1080p25 and 1080p30; broadcasts switching between film and video) are thus
 * not deinterlaced where they are progressive. Feed it every access unit in decode order.
 */
export class H264Pictures {
  private readonly units: AccessUnits;
  private previousInterlaced = true;

  constructor(avcC: Uint8Array | null) {
    this.units = new AccessUnits(avcC);
  }

  /** How access unit `sample` is shown, or null when it cannot be read. */
  scan(sample: Uint8Array): PictureScan | null {
    const facts = this.units.read(sample);
    if (!facts) return null;
    if (!facts.fields) return 'progressive';
    const { picStruct, slice, mbaff } = facts;
    const fieldOrMbaff = slice.field !== null || mbaff;
    let interlaced: boolean;
    if (picStruct === null) interlaced = fieldOrMbaff;
    else if (picStruct === 1 || picStruct === 2) interlaced = true;
    else if (picStruct >= 3 && picStruct <= 6) interlaced = fieldOrMbaff || this.previousInterlaced;
    else interlaced = false; // 0: a frame; 7, 8: a frame shown twice or three times
    this.previousInterlaced = interlaced;
    if (!interlaced) return 'progressive';
    if (slice.field !== null) return slice.field === 'bottom' ? 'bottom-first' : 'top-first';
    if (picStruct === 2) return 'bottom-first';
    return picStructOrder(picStruct) ?? slice.pocOrder ?? 'top-first';
  }
}

/**
 * `{ fieldOrder: 'bottom-first' }` for H.264 (`codec` avc1/avc3) whose first access unit says
 * its bottom field comes first, else nothing: what a VideoTrackInfo carries.
 */
export function fieldOrderFacts(
  codec: string,
  avcC: Uint8Array | null,
  sample: Uint8Array | null | undefined,
): { fieldOrder?: 'bottom-first' } {
  if (!sample || !/^avc[13]/.test(codec)) return {};
  return h264FieldOrder(sample, avcC) === 'bottom-first' ? { fieldOrder: 'bottom-first' } : {};
}
