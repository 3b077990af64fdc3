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
import type { FieldOrder } from '../shared/deinterlace-rows.ts';
import { nalToRbsp, readSps, type SliceSyntax } from './h264-sps.ts';
import { Bits } from './stream-colour.ts';

export type { FieldOrder };

/** NAL units of an access unit: length-prefixed with `lengthSize` bytes, or Annex B when 0. */
export function nalUnits(bytes: Uint8Array, lengthSize: number): Uint8Array[] {
  const units: Uint8Array[] = [];
  if (lengthSize > 0) {
    let at = 0;
    while (at + lengthSize <= bytes.length) {
      let size = 0;
      for (let k = 0; k < lengthSize; k++) size = size * 256 + bytes[at + k]!;
      at += lengthSize;
      if (size === 0) continue;
      // a unit cut short (only the start of a sample was read) keeps what there is
      units.push(bytes.subarray(at, Math.min(at + size, bytes.length)));
      at += size;
    }
    return units;
  }
  let start = -1;
  for (let i = 0; i + 2 < bytes.length; i++) {
    if (bytes[i] !== 0 || bytes[i + 1] !== 0 || bytes[i + 2] !== 1) continue;
    if (start >= 0) {
      // the unit ends before this start code (and before a fourth zero byte leading it)
      const end = i > start && bytes[i - 1] === 0 ? i - 1 : i;
      units.push(bytes.subarray(start, end));
    }
    start = i + 3;
    i += 2;
  }
  if (start >= 0 && start < bytes.length) units.push(bytes.subarray(start));
  return units;
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

/** The field order the rest of a slice header says, or null when it says none. */
function sliceOrder(nal: Uint8Array, { r, p, s }: SliceStart): FieldOrder | null {
  if (!s.fields) return null;
  if (s.separatePlanes) r.u(2); // colour_plane_id
  r.u(s.log2MaxFrameNum); // frame_num
  if (r.u(1)) return r.u(1) ? 'bottom-first' : 'top-first'; // field_pic_flag, bottom_field_flag
  if ((nal[0]! & 0x1f) === 5) r.ue(); // idr_pic_id
  if (s.pocType !== 0 || !p.bottomPoc) return null;
  r.u(s.log2MaxPocLsb); // pic_order_cnt_lsb
  const delta = r.se(); // delta_pic_order_cnt_bottom
  return delta < 0 ? 'bottom-first' : delta > 0 ? 'top-first' : null;
}

/**
 * The field order a picture timing SEI says (its pic_struct, D.2.3: 3 and 5 top field first, 4
 * and 6 bottom field first), or null when the unit holds none or it says no order.
 */
function seiOrder(nal: Uint8Array, s: SliceSyntax): FieldOrder | null {
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
      const picStruct = r.u(4);
      if (picStruct === 3 || picStruct === 5) return 'top-first';
      return picStruct === 4 || picStruct === 6 ? 'bottom-first' : null;
    }
    at = start + size;
  }
  return null;
}

/**
 * The field order of an H.264 stream from its first access unit (`sample`, length-prefixed as
 * `avcC` says, or Annex B when there is no avcC record; only its start is needed). Null when it
 * does not say, is progressive, or cannot be read.
 */
export function h264FieldOrder(sample: Uint8Array, avcC: Uint8Array | null): FieldOrder | null {
  const record = avcC ? avcCUnits(avcC) : null;
  if (avcC && !record) return null;
  const units = [...(record?.units ?? []), ...nalUnits(sample, record?.lengthSize ?? 0)];
  const sps = new Map<number, SliceSyntax>();
  const pps = new Map<number, PpsFacts>();
  const seis: Uint8Array[] = [];
  try {
    for (const nal of units) {
      if (nal.length < 2) continue;
      const type = nal[0]! & 0x1f;
      if (type === 7) {
        const facts = readSps(nal).slices;
        sps.set(facts.id, facts);
      } else if (type === 8) {
        const { id, facts } = readPps(nal);
        pps.set(id, facts);
      } else if (type === 6) {
        seis.push(nal);
      } else if (type === 1 || type === 5) {
        // as ffmpeg: the picture timing SEI's pic_struct first, else the slice's own fields
        const start = sliceStart(nal, pps, sps);
        if (!start) return null;
        for (const sei of seis) {
          const order = seiOrder(sei, start.s);
          if (order) return order;
        }
        return sliceOrder(nal, start);
      }
    }
  } catch {
    // a header that ends early or is not what it says: the stream does not say
  }
  return null;
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
