/**
 * Colour signalling carried in a video stream itself, and what to decode with when neither the
 * stream nor the container says anything.
 *
 * Why: a file without container colour tags (MP4 `colr`, Matroska Colour) may still say its
 * colours in the bitstream (H.264 SPS VUI, AV1 sequence header), and when neither does, the
 * picture is "untagged". Chromium then decodes untagged H.264 and AV1 as BT.709 whatever the size
 * (VP9 as BT.601 or BT.709 whatever the size, by its codec string: vp9-header.ts),
 * while ffmpeg, mpv and VLC take BT.601 for standard definition, so an export tagged BT.709 looked
 * shifted in those players next to its source. To choose for untagged files ourselves we must tell
 * untagged from tagged-in-the-stream, which only the bitstream can say (h264-sps.ts, av1-seq.ts,
 * vp9-header.ts).
 */
import { colorSpaceFromCodes } from './codecs.ts';

/** Colour fields of a bitstream, as the raw ISO/IEC 23091-2 code points (2 = unspecified). */
export interface StreamColour {
  /** Full-range flag (false when the stream does not say). */
  readonly fullRange: boolean;
  /** The stream describes its colours (a code it leaves out is 2, unspecified). */
  readonly described: boolean;
  readonly primaries: number;
  readonly transfer: number;
  readonly matrix: number;
}

export const UNSAID: StreamColour = {
  fullRange: false,
  described: false,
  primaries: 2,
  transfer: 2,
  matrix: 2,
};

/** MSB-first bit reader (for H.264, over an RBSP: emulation-prevention bytes removed). */
export class Bits {
  private pos = 0;
  constructor(private readonly bytes: Uint8Array) {}

  bit(): number {
    const byte = this.pos >> 3;
    if (byte >= this.bytes.length) throw new RangeError('header ends early');
    const v = (this.bytes[byte]! >> (7 - (this.pos & 7))) & 1;
    this.pos++;
    return v;
  }

  u(n: number): number {
    let v = 0;
    for (let i = 0; i < n; i++) v = v * 2 + this.bit();
    return v;
  }

  /** ue(v): Exp-Golomb, unsigned. */
  ue(): number {
    let zeros = 0;
    while (this.bit() === 0) {
      zeros++;
      if (zeros > 31) throw new RangeError('bad Exp-Golomb code');
    }
    return 2 ** zeros - 1 + this.u(zeros);
  }

  /** se(v): Exp-Golomb, signed. */
  se(): number {
    const k = this.ue();
    return k % 2 === 1 ? (k + 1) / 2 : -k / 2;
  }
}

/**
 * What an untagged picture of this size most likely is: BT.601 for standard definition (below
 * 1280 wide and at most 576 lines), BT.709 above, as mpv and VLC decide. Primaries follow the SD
 * system the height names (576: PAL/bt470bg, 480/486: NTSC/smpte170m), else BT.709.
 */
export function guessColorSpace(width: number, height: number): VideoColorSpaceInit {
  if (width >= 1280 || height > 576) {
    return { primaries: 'bt709', transfer: 'bt709', matrix: 'bt709', fullRange: false };
  }
  const primaries: VideoColorPrimaries =
    height === 576 ? 'bt470bg' : height === 480 || height === 486 ? 'smpte170m' : 'bt709';
  return { primaries, transfer: 'smpte170m', matrix: 'smpte170m', fullRange: false };
}

/**
 * The colour space to decode a track with: the container's tags, else the stream's, with every
 * field neither says filled in by `guessColorSpace`. When the stream's header could not be read
 * (`stream` null), the container's tags alone (the decoder keeps its own defaults for the rest).
 */
export function resolveColorSpace(
  container: VideoColorSpaceInit | null,
  stream: StreamColour | null,
  width: number,
  height: number,
): VideoColorSpaceInit | null {
  if (!stream) return container;
  const { primaries, transfer, matrix, fullRange } = stream;
  const said = container ??
    colorSpaceFromCodes(primaries, transfer, matrix, fullRange) ?? { fullRange };
  const guess = guessColorSpace(width, height);
  return {
    primaries: said.primaries ?? guess.primaries,
    transfer: said.transfer ?? guess.transfer,
    matrix: said.matrix ?? guess.matrix,
    fullRange: said.fullRange ?? fullRange,
  };
}
