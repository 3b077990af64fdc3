/**
 * An MPEG-1 / MPEG-2 video decoder (ISO/IEC 11172-2, 13818-2 main profile: 4:2:0, frame and
 * field pictures, I/P/B): DVDs, VCDs, television recordings, older camcorders. Chromium's
 * WebCodecs has no decoder for them.
 *
 * A packet is one coded picture (with the sequence and GOP headers before it), or the two field
 * pictures of one frame. Frames come out in display order: a reference picture (I or P) is held
 * until the next one is decoded, B pictures come out at once; each frame carries the timestamp
 * of the packet it was coded in. Three frame buffers are reused for the whole stream.
 */
import { BitReader } from './bits.ts';
import {
  B_PICTURE,
  FRAME_PICTURE,
  I_PICTURE,
  P_PICTURE,
  PICTURE_CODING_EXTENSION,
  type Picture,
  QUANT_MATRIX_EXTENSION,
  SEQUENCE_EXTENSION,
  TOP_FIELD,
  type Sequence,
  readPictureCodingExtension,
  readPictureHeader,
  readQuantMatrixExtension,
  readSequenceExtension,
  readSequenceHeader,
} from './headers.ts';
import { FrameBuffer, type References, SliceDecoder, UnsupportedStream } from './slice.ts';
import { VlcError } from './vlc.ts';

export { UnsupportedStream };

const SEQUENCE_HEADER = 0xb3;
const EXTENSION = 0xb5;
const SEQUENCE_DISPLAY_EXTENSION = 2;

/** The colour a sequence display extension states, as its code points (ITU-T H.273). */
export interface StreamColour {
  primaries: number;
  transfer: number;
  matrix: number;
}

/** A decoded frame: the buffer is the decoder's and is reused once `output` returns. */
export type FrameOutput = (frame: FrameBuffer) => void;

export class Mpeg2Decoder {
  private readonly bits = new BitReader();
  private readonly slices = new SliceDecoder();
  private seq: Sequence | null = null;
  /** Colour from the sequence display extension, or null when the stream states none. */
  colour: StreamColour | null = null;
  private pic: Picture | null = null;
  private mbWidth = 0;
  private mbHeight = 0;
  private pool: FrameBuffer[] = [];
  /** The older reference (forward prediction of B pictures). */
  private past: FrameBuffer | null = null;
  /** The newest reference, held back until the next one is decoded. */
  private future: FrameBuffer | null = null;
  private held = false;
  /** The frame being decoded. */
  private current: FrameBuffer | null = null;
  private refs: References | null = null;
  /** The first field of a frame whose second field has not come yet. */
  private firstField: Picture | null = null;
  /** The picture in progress: its packet's time, and whether its first slice has come. */
  private stampUs = 0;
  private durationUs = 0;
  private begun = false;
  /** A fourth frame, grey, for a reference the stream does not hold (made when needed). */
  private spare: FrameBuffer | null = null;
  /** Slices that failed to decode, over the stream. */
  damagedSlices = 0;

  constructor(private readonly output: FrameOutput) {}

  /** Reads a sequence header given apart from the pictures (a container's codec private). */
  configure(description?: Uint8Array): void {
    this.reset();
    if (description && description.length > 0) this.parse(description, 0, 0, false);
  }

  /** Drops the references (before decoding from another key frame). */
  reset(): void {
    this.past = this.future = this.current = null;
    this.held = false;
    this.firstField = null;
  }

  /** Decodes one packet; frames it completes go to `output`. Throws on damage. */
  decode(data: Uint8Array, timestamp: number, duration: number): void {
    this.parse(data, timestamp, duration, true);
  }

  /** Puts out the reference held back. */
  flush(): void {
    if (this.firstField) this.completeFrame(this.firstField.type);
    if (this.future && this.held) this.emit(this.future);
    this.held = false;
  }

  private parse(data: Uint8Array, timestamp: number, duration: number, pictures: boolean): void {
    const bits = this.bits;
    bits.load(data);
    let inPicture = false;
    for (let code = bits.nextStartCode(); code >= 0; code = bits.nextStartCode()) {
      if (code >= 1 && code <= 0xaf) {
        if (inPicture) this.slice(code);
      } else if (code === 0) {
        if (!pictures) break;
        if (inPicture) this.endPicture();
        this.pic = readPictureHeader(bits);
        this.startPicture(timestamp, duration);
        inPicture = true;
      } else if (code === SEQUENCE_HEADER) {
        this.sequence(readSequenceHeader(bits));
      } else if (code === EXTENSION) {
        this.extension(inPicture);
      }
      // (a GOP header's time code and flags are not needed: a B picture whose forward reference
      // is missing predicts from the I picture after it, whatever broken_link says)
    }
    if (inPicture) this.endPicture();
    else if (pictures && data.length > 0) throw new VlcError('a packet without a picture');
  }

  private sequence(seq: Sequence): void {
    if (seq.width === 0 || seq.height === 0) throw new VlcError('a sequence header without a size');
    this.seq = seq;
  }

  private extension(inPicture: boolean): void {
    const bits = this.bits;
    const id = bits.read(4);
    const seq = this.seq;
    if (id === SEQUENCE_EXTENSION && seq) {
      readSequenceExtension(bits, seq);
    } else if (id === SEQUENCE_DISPLAY_EXTENSION && seq) {
      bits.skip(3); // video_format
      this.colour = bits.bit()
        ? { primaries: bits.read(8), transfer: bits.read(8), matrix: bits.read(8) }
        : null;
    } else if (id === QUANT_MATRIX_EXTENSION && seq) {
      readQuantMatrixExtension(bits, seq);
    } else if (id === PICTURE_CODING_EXTENSION && inPicture && this.pic) {
      readPictureCodingExtension(bits, this.pic);
    }
  }

  /** Sets the sizes for the sequence, reallocating the frames when they change. */
  private layout(seq: Sequence): void {
    if (seq.chromaFormat !== 1) {
      throw new UnsupportedStream(
        seq.chromaFormat === 2 ? '4:2:2 chroma (MPEG-2 4:2:2 profile)' : '4:4:4 chroma',
      );
    }
    if (seq.height > 2800) throw new UnsupportedStream('pictures taller than 2800 lines');
    const mbWidth = (seq.width + 15) >> 4;
    const mbHeight =
      seq.mpeg2 && !seq.progressive ? 2 * ((seq.height + 31) >> 5) : (seq.height + 15) >> 4;
    if (mbWidth === this.mbWidth && mbHeight === this.mbHeight) return;
    // a new size: what was decoded before goes out first
    this.flush();
    this.reset();
    this.mbWidth = mbWidth;
    this.mbHeight = mbHeight;
    this.pool = [0, 1, 2].map(() => new FrameBuffer(mbWidth * 16, mbHeight * 16));
    this.spare = null;
  }

  private startPicture(timestamp: number, duration: number): void {
    const seq = this.seq;
    const pic = this.pic!;
    if (!seq) throw new VlcError('a picture before any sequence header');
    this.layout(seq);
    if (pic.type !== I_PICTURE && pic.type !== P_PICTURE && pic.type !== B_PICTURE) {
      throw new UnsupportedStream(
        pic.type === 4 ? 'D pictures (MPEG-1 previews)' : 'a picture of an unknown type',
      );
    }
    this.stampUs = timestamp;
    this.durationUs = duration;
    this.begun = false;
  }

  private slice(code: number): void {
    if (!this.begun) {
      this.begun = true;
      this.beginSlices();
    }
    try {
      this.slices.slice(this.bits, code);
    } catch (err) {
      // a damaged slice: what it left undecoded keeps the older picture's samples
      if (!(err instanceof VlcError)) throw err;
      this.damagedSlices++;
    }
  }

  /** Called at the first slice of a picture, when its coding extension has been read. */
  private beginSlices(): void {
    const pic = this.pic!;
    const field = pic.structure !== FRAME_PICTURE;
    // the second field of a frame: the other parity, and a B field after a B field (a reference
    // frame's two fields are I or P); anything else starts a new frame (its first field lost)
    const first = this.firstField;
    const second =
      field &&
      first !== null &&
      first.structure !== pic.structure &&
      (first.type === B_PICTURE) === (pic.type === B_PICTURE);
    let forward = this.past;
    let backward = this.future;
    if (!second) {
      if (this.firstField) this.completeFrame(this.firstField.type);
      if (pic.type === B_PICTURE) {
        // an open GOP's first B pictures decoded without the GOP before (a file or a part that
        // starts there): the I picture after them stands in for the missing reference
        backward ??= this.grey();
        forward ??= backward;
        this.current = this.pool.find((f) => f !== this.past && f !== this.future)!;
      } else {
        // a new reference: the one held back goes out, and becomes the older one
        this.flush();
        this.past = this.future;
        this.future = null;
        // a P picture with nothing before it (a file cut before its I picture) predicts from grey
        forward = this.past ?? (pic.type === P_PICTURE ? this.grey() : null);
        this.current = this.pool.find((f) => f !== this.past && f !== this.spare)!;
      }
      const current = this.current;
      current.timestamp = this.stampUs;
      current.duration = this.durationUs;
      current.visibleWidth = this.seq!.width;
      current.visibleHeight = this.seq!.height;
      current.progressive = pic.progressiveFrame;
      current.topFieldFirst = field ? pic.structure === TOP_FIELD : pic.topFieldFirst;
    } else {
      // the second field of an I/P frame with nothing before it predicts from its first field
      // (slice.ts picks it) or, for the same parity, grey
      forward = this.refs!.forward ?? (pic.type === P_PICTURE ? this.grey() : null);
      backward = this.refs!.backward;
    }
    this.refs = {
      current: this.current!,
      forward,
      backward: pic.type === B_PICTURE ? backward : null,
      secondField: second,
    };
    this.slices.begin(this.seq!, pic, this.refs, this.mbWidth, this.mbHeight);
  }

  /** A mid-grey frame, standing in for a reference the stream does not hold. */
  private grey(): FrameBuffer {
    this.spare ??= new FrameBuffer(this.mbWidth * 16, this.mbHeight * 16);
    this.spare.data.fill(128);
    return this.spare;
  }

  private endPicture(): void {
    const pic = this.pic!;
    if (!this.begun) return;
    if (pic.structure !== FRAME_PICTURE && !this.refs!.secondField) {
      this.firstField = pic;
      return;
    }
    this.completeFrame(pic.type);
  }

  /** A frame is whole (or its second field is missing): B frames go out, references wait. */
  private completeFrame(type: number): void {
    this.firstField = null;
    const current = this.current!;
    if (type === B_PICTURE) {
      this.emit(current);
    } else {
      this.future = current;
      this.held = true;
    }
  }

  private emit(frame: FrameBuffer): void {
    this.output(frame);
  }
}
