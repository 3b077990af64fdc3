/**
 * Audio elementary streams of MPEG program and transport streams cut into whole frames, as the
 * bytes arrive: MPEG audio (Layer I, II, III; ISO/IEC 11172-3, 13818-3), AC-3 (ATSC A/52) and
 * AAC in ADTS frames (transport streams).
 * A container's packets cut the stream anywhere; a muxer (mediabunny) and a decoder take one
 * frame a packet. A frame is taken where its header is valid and the next frame's sync word
 * follows it (or the stream ends), so a stream that starts inside a frame, or a damaged stretch,
 * is passed over until the frames line up again.
 */

export type AudioFraming = 'mpeg-audio' | 'ac3' | 'adts';

export interface AudioFrameHeader {
  /** Bytes in the frame, its header included. */
  readonly size: number;
  /** Samples per channel it holds. */
  readonly samples: number;
  readonly sampleRate: number;
  readonly channels: number;
  /** MPEG audio's layer (1, 2, 3); 0 for AC-3 and AAC. */
  readonly layer: number;
  /** AAC in ADTS: the ADTS header's bytes, which the packet leaves out, and the header's fields. */
  readonly adts?: {
    readonly headerSize: number;
    readonly profile: number;
    readonly rateIndex: number;
    readonly channelConfig: number;
  };
}

const MPEG_RATES = [44100, 48000, 32000];
/** Bit rates (kbit/s) by index: MPEG-1 Layer I, II, III; MPEG-2/2.5 Layer I; Layer II and III. */
const MPEG_BITRATES: readonly (readonly number[])[] = [
  [0, 32, 64, 96, 128, 160, 192, 224, 256, 288, 320, 352, 384, 416, 448],
  [0, 32, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384],
  [0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320],
  [0, 32, 48, 56, 64, 80, 96, 112, 128, 144, 160, 176, 192, 224, 256],
  [0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160],
];

/** An MPEG audio frame header at `b[at]` (4 bytes), or null. Free-format frames are not read. */
export function mpegAudioHeader(b: Uint8Array, at: number): AudioFrameHeader | null {
  if (at + 4 > b.length || b[at] !== 0xff || (b[at + 1]! & 0xe0) !== 0xe0) return null;
  const version = (b[at + 1]! >> 3) & 3; // 3: MPEG-1, 2: MPEG-2, 0: MPEG-2.5
  const layer = 4 - ((b[at + 1]! >> 1) & 3);
  const rateIndex = (b[at + 2]! >> 2) & 3;
  const bitrateIndex = b[at + 2]! >> 4;
  if (version === 1 || layer === 4 || rateIndex === 3 || bitrateIndex === 0 || bitrateIndex === 15)
    return null;
  const mpeg1 = version === 3;
  const sampleRate = MPEG_RATES[rateIndex]! / (mpeg1 ? 1 : version === 2 ? 2 : 4);
  const table = mpeg1 ? layer - 1 : layer === 1 ? 3 : 4;
  const bitrate = MPEG_BITRATES[table]![bitrateIndex]! * 1000;
  const padding = (b[at + 2]! >> 1) & 1;
  const samples = layer === 1 ? 384 : layer === 3 && !mpeg1 ? 576 : 1152;
  const size =
    layer === 1
      ? (Math.floor((12 * bitrate) / sampleRate) + padding) * 4
      : Math.floor(((samples / 8) * bitrate) / sampleRate) + padding;
  return { size, samples, sampleRate, channels: b[at + 3]! >> 6 === 3 ? 1 : 2, layer };
}

/** AC-3 bit rates (kbit/s) by frmsizecod / 2. */
const AC3_BITRATES = [
  32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384, 448, 512, 576, 640,
];
const AC3_RATES = [48000, 44100, 32000];
/** Full-band channels by acmod. */
const AC3_CHANNELS = [2, 1, 2, 3, 3, 4, 4, 5];

/** An AC-3 sync frame header at `b[at]` (7 bytes), or null (E-AC-3's bsid 16 included). */
export function ac3Header(b: Uint8Array, at: number): AudioFrameHeader | null {
  if (at + 7 > b.length || b[at] !== 0x0b || b[at + 1] !== 0x77) return null;
  const fscod = b[at + 4]! >> 6;
  const frmsizecod = b[at + 4]! & 0x3f;
  const bsid = b[at + 5]! >> 3;
  if (fscod === 3 || frmsizecod >= 38 || bsid > 10) return null;
  const sampleRate = AC3_RATES[fscod]!;
  const kbps = AC3_BITRATES[frmsizecod >> 1]!;
  // 16-bit words: 1536 samples at the bit rate (44.1 kHz rounds down, odd codes add a word)
  const words = Math.floor((kbps * 96000) / sampleRate) + (fscod === 1 ? frmsizecod & 1 : 0);
  // acmod, then the mix levels it has, then lfeon
  const acmod = b[at + 6]! >> 5;
  let bit = 3;
  if (acmod & 1 && acmod !== 1) bit += 2;
  if (acmod & 4) bit += 2;
  if (acmod === 2) bit += 2;
  const bits = (b[at + 6]! << 8) | (b[at + 7] ?? 0);
  const lfe = (bits >> (15 - bit)) & 1;
  return {
    size: words * 2,
    samples: 1536,
    sampleRate,
    channels: AC3_CHANNELS[acmod]! + lfe,
    layer: 0,
  };
}

const ADTS_RATES = [
  96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350,
];

/**
 * An ADTS header at `b[at]` (7 bytes, 9 with a CRC), or null: AAC as transport streams carry it
 * (ISO/IEC 13818-7 6.2). Its channels are 0 when a program config element gives them.
 */
export function adtsHeader(b: Uint8Array, at: number): AudioFrameHeader | null {
  if (at + 7 > b.length || b[at] !== 0xff || (b[at + 1]! & 0xf6) !== 0xf0) return null;
  const headerSize = b[at + 1]! & 1 ? 7 : 9;
  const profile = b[at + 2]! >> 6;
  const rateIndex = (b[at + 2]! >> 2) & 15;
  const channelConfig = ((b[at + 2]! & 1) << 2) | (b[at + 3]! >> 6);
  const size = ((b[at + 3]! & 3) << 11) | (b[at + 4]! << 3) | (b[at + 5]! >> 5);
  if (rateIndex >= ADTS_RATES.length || size <= headerSize) return null;
  return {
    size,
    samples: 1024 * ((b[at + 6]! & 3) + 1),
    sampleRate: ADTS_RATES[rateIndex]!,
    channels: channelConfig === 7 ? 8 : channelConfig,
    layer: 0,
    adts: { headerSize, profile, rateIndex, channelConfig },
  };
}

/** Header bytes to have at hand before reading one. */
const HEAD = 8;

export class AudioFrameSplitter {
  private readonly header: (b: Uint8Array, at: number) => AudioFrameHeader | null;
  /** Bytes not yet handed out in a frame, from stream offset `bufAt`. */
  private buf: Uint8Array = new Uint8Array(0);
  private bufAt = 0;
  /** The first frame's header: later frames must agree with it (layer, rate). */
  private first: AudioFrameHeader | null = null;

  constructor(
    framing: AudioFraming,
    private readonly onFrame: (start: number, header: AudioFrameHeader) => void,
  ) {
    this.header = framing === 'ac3' ? ac3Header : framing === 'adts' ? adtsHeader : mpegAudioHeader;
  }

  /** The first frame's header, once one has been found. */
  get format(): AudioFrameHeader | null {
    return this.first;
  }

  /** The earliest stream offset a frame not yet handed out may start at. */
  get pendingFrom(): number {
    return this.bufAt;
  }

  push(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    const all = new Uint8Array(this.buf.length + chunk.length);
    all.set(this.buf);
    all.set(chunk, this.buf.length);
    this.scan(all, false);
  }

  /** The stream ends: a last frame whose bytes are all there is handed out. */
  end(): void {
    this.scan(this.buf, true);
    this.buf = new Uint8Array(0);
  }

  /**
   * Whether `h` is a frame of the same stream as `like`: the same layer and rate, and when
   * `channels`, the same channels (a stream may change them between programmes, but a frame's
   * next frame has them too).
   */
  private static alike(
    h: AudioFrameHeader | null,
    like: AudioFrameHeader | null,
    channels: boolean,
  ): boolean {
    if (!h || !like) return h !== null;
    return (
      like.layer === h.layer &&
      like.sampleRate === h.sampleRate &&
      (!channels || like.channels === h.channels)
    );
  }

  private scan(b: Uint8Array, ended: boolean): void {
    let i = 0;
    while (i + HEAD <= b.length || (ended && i < b.length)) {
      const h = this.header(b, i);
      if (!h || !AudioFrameSplitter.alike(h, this.first, false)) {
        i++;
        continue;
      }
      const next = i + h.size;
      // a frame is taken when a frame of the same kind follows it; the last one of the stream
      // when the stream is already in step
      const last = ended && next <= b.length && next + HEAD > b.length && this.first !== null;
      if (next + HEAD > b.length && !last) {
        if (ended) i++;
        else break; // wait for more
        continue;
      }
      if (!last && !AudioFrameSplitter.alike(this.header(b, next), h, true)) {
        i++; // not followed by a frame: a sync word inside the data
        continue;
      }
      this.first ??= h;
      this.onFrame(this.bufAt + i, h);
      i = next;
    }
    const keep = Math.min(i, b.length);
    this.buf = b.slice(keep);
    this.bufAt += keep;
  }
}
