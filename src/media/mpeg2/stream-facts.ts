/**
 * What a reader needs to know of an MPEG-1/MPEG-2 video stream without decoding it: the first
 * sequence header's facts (size, aspect, frame rate, whether pictures may be fields), and how
 * each picture is shown (a frame, or two fields and which comes first) for the deinterlacer.
 */
import type { PictureScan } from '../../shared/deinterlace-rows.ts';
import { BitReader } from './bits.ts';
import {
  FRAME_PICTURE,
  PICTURE_CODING_EXTENSION,
  type Picture,
  SEQUENCE_EXTENSION,
  type Sequence,
  TOP_FIELD,
  readPictureCodingExtension,
  readPictureHeader,
  readSequenceExtension,
  readSequenceHeader,
} from './headers.ts';

/** The first sequence header in `bytes` with its extension, or null when there is none. */
export function sequenceFacts(bytes: Uint8Array): Sequence | null {
  const bits = new BitReader();
  bits.load(bytes);
  let seq: Sequence | null = null;
  for (let code = bits.nextStartCode(); code >= 0; code = bits.nextStartCode()) {
    if (code === 0xb3 && !seq) seq = readSequenceHeader(bits);
    else if (code === 0xb5 && seq && bits.read(4) === SEQUENCE_EXTENSION) {
      readSequenceExtension(bits, seq);
      break;
    } else if (seq && code !== 0xb5) break;
  }
  return seq && seq.width > 0 && seq.height > 0 ? seq : null;
}

/**
 * The first sequence header in `bytes` with the extensions after it, up to the first GOP or
 * picture (what Matroska keeps as CodecPrivate), or null when there is none.
 */
export function sequenceHeaderBytes(bytes: Uint8Array): Uint8Array | null {
  const bits = new BitReader();
  bits.load(bytes);
  let start = -1;
  for (let code = bits.nextStartCode(); code >= 0; code = bits.nextStartCode()) {
    const at = bits.pos / 8 - 4;
    if (code === 0xb3 && start < 0) start = at;
    else if (start >= 0 && (code === 0 || code === 0xb8 || code === 0xb3)) {
      return bytes.slice(start, at);
    }
  }
  return start >= 0 ? bytes.slice(start) : null;
}

/** MPEG-2's display aspect ratios by aspect_ratio_information (13818-2 table 6-3). */
const DISPLAY_ASPECT: Record<number, readonly [number, number]> = {
  2: [4, 3],
  3: [16, 9],
  4: [221, 100],
};

/** MPEG-1's pixel aspect ratios (height over width) by the same code (11172-2 2.4.3.2). */
const MPEG1_PEL_ASPECT = [
  0, 1, 0.6735, 0.7031, 0.7615, 0.8055, 0.8437, 0.8935, 0.9157, 0.9815, 1.0255, 1.0695, 1.095,
  1.1575, 1.2015,
];

function gcd(a: number, b: number): number {
  return b === 0 ? a : gcd(b, a % b);
}

/**
 * A pixel's width over its height as [num, den] reduced, or null for square pixels: MPEG-2 says
 * the picture's display aspect (a DVD's 720x480 shown at 4:3 has pixels 8:9 wide), MPEG-1 the
 * pixel's height over its width to four digits.
 */
export function pixelAspect(seq: Sequence): readonly [number, number] | null {
  let num: number;
  let den: number;
  if (seq.mpeg2) {
    const dar = DISPLAY_ASPECT[seq.aspectCode];
    if (!dar) return null;
    num = dar[0] * seq.height;
    den = dar[1] * seq.width;
  } else {
    const heightOverWidth = MPEG1_PEL_ASPECT[seq.aspectCode];
    if (!heightOverWidth || heightOverWidth === 1) return null;
    num = 10000;
    den = Math.round(heightOverWidth * 10000);
  }
  const g = gcd(num, den);
  return num === den ? null : [num / g, den / g];
}

/** Whether the stream may hold fields: MPEG-2 whose sequence is not marked progressive. */
export function mayHoldFields(seq: Sequence): boolean {
  return seq.mpeg2 && !seq.progressive;
}

/** How each picture of a stream is shown, read from its picture header and coding extension. */
export class MpegPictures {
  private readonly bits = new BitReader();

  /** How the picture in `sample` is shown, or null when it has no picture header. */
  scan(sample: Uint8Array): PictureScan | null {
    const bits = this.bits;
    bits.load(sample);
    let pic: Picture | null = null;
    for (let code = bits.nextStartCode(); code >= 0; code = bits.nextStartCode()) {
      if (code === 0) pic = readPictureHeader(bits);
      else if (code === 0xb5 && pic && bits.read(4) === PICTURE_CODING_EXTENSION) {
        readPictureCodingExtension(bits, pic);
        if (pic.progressiveFrame) return 'progressive';
        if (pic.structure !== FRAME_PICTURE) {
          return pic.structure === TOP_FIELD ? 'top-first' : 'bottom-first';
        }
        return pic.topFieldFirst ? 'top-first' : 'bottom-first';
      } else if (pic && code >= 1 && code <= 0xaf) return 'progressive'; // MPEG-1
    }
    return null;
  }
}
