/**
 * Sound formats of camera, dashcam and security-camera files that no output container holds,
 * turned into 16-bit PCM (which MP4 and MKV hold, and every player plays) as the packets are
 * read. Each gives the samples ffmpeg's decoder gives:
 *
 * - 8-bit PCM, unsigned (older cameras' AVI and MOV 'raw ') or signed (MOV 'twos'): each sample
 *   moved to 16 bits exactly (x 256);
 * - G.711 μ-law and A-law (IP and security cameras, MOV 'ulaw'/'alaw', AVI tags 7/6): the
 *   standard expansion to 16 bits;
 * - IMA ADPCM (WAVE_FORMAT_IMA_ADPCM, 0x11; cheap dashcams and action cameras' AVI): each block
 *   decoded on its own (it starts with each channel's predictor and step index).
 */

/** IMA ADPCM's step sizes, by step index (0-88). */
const STEPS = new Int32Array([
  7, 8, 9, 10, 11, 12, 13, 14, 16, 17, 19, 21, 23, 25, 28, 31, 34, 37, 41, 45, 50, 55, 60, 66, 73,
  80, 88, 97, 107, 118, 130, 143, 157, 173, 190, 209, 230, 253, 279, 307, 337, 371, 408, 449, 494,
  544, 598, 658, 724, 796, 876, 963, 1060, 1166, 1282, 1411, 1552, 1707, 1878, 2066, 2272, 2499,
  2749, 3024, 3327, 3660, 4026, 4428, 4871, 5358, 5894, 6484, 7132, 7845, 8630, 9493, 10442, 11487,
  12635, 13899, 15289, 16818, 18500, 20350, 22385, 24623, 27086, 29794, 32767,
]);
/** How a code moves the step index. */
const INDEX_MOVES = new Int8Array([-1, -1, -1, -1, 2, 4, 6, 8, -1, -1, -1, -1, 2, 4, 6, 8]);

const clamp = (v: number, lo: number, hi: number): number => (v < lo ? lo : v > hi ? hi : v);

/** One byte a sample to signed 16-bit little-endian PCM, by a table of the 256 values. */
function bytewise(table: Int16Array): (data: Uint8Array) => Uint8Array<ArrayBuffer> {
  return (data) => {
    const out = new Int16Array(data.length);
    for (let i = 0; i < data.length; i++) out[i] = table[data[i]!]!;
    // Int16Array is in the machine's order: every machine a browser runs on is little-endian
    return new Uint8Array(out.buffer);
  };
}

const tableOf = (f: (byte: number) => number): Int16Array =>
  Int16Array.from({ length: 256 }, (_, b) => f(b));

/** G.711 μ-law: sign, 3-bit segment, 4-bit step, stored inverted. */
function ulaw(byte: number): number {
  const u = ~byte & 0xff;
  const t = (((u & 0x0f) << 3) + 0x84) << ((u >> 4) & 7);
  return u & 0x80 ? 0x84 - t : t - 0x84;
}

/** G.711 A-law: sign, 3-bit segment, 4-bit step, even bits inverted. */
function alaw(byte: number): number {
  const a = byte ^ 0x55;
  const seg = (a >> 4) & 7;
  let t = (a & 0x0f) << 4;
  t = seg === 0 ? t + 8 : (t + 0x108) << (seg - 1);
  return a & 0x80 ? t : -t;
}

const U8 = tableOf((b) => (b - 128) * 256);
const S8 = tableOf((b) => (b << 24) >> 16);
const ULAW = tableOf(ulaw);
const ALAW = tableOf(alaw);

/**
 * The converter to 16-bit PCM of a one-byte-a-sample codec no output holds ('pcm-u8',
 * 'pcm-s8', 'ulaw', 'alaw'), or null.
 */
export function byteCodecToS16(
  codec: string,
): ((data: Uint8Array) => Uint8Array<ArrayBuffer>) | null {
  const table = { 'pcm-u8': U8, 'pcm-s8': S8, ulaw: ULAW, alaw: ALAW }[codec];
  return table ? bytewise(table) : null;
}

/** Samples per channel in one IMA ADPCM block of `blockAlign` bytes. */
export function imaSamplesPerBlock(blockAlign: number, channels: number): number {
  return blockAlign >= 4 * channels ? 1 + ((blockAlign - 4 * channels) * 2) / channels : 0;
}

/**
 * IMA ADPCM blocks (`blockAlign` bytes each; a partial block at the end is left out) to
 * interleaved signed 16-bit little-endian PCM.
 */
export function imaAdpcmToS16(
  data: Uint8Array,
  channels: number,
  blockAlign: number,
): Uint8Array<ArrayBuffer> {
  const perBlock = imaSamplesPerBlock(blockAlign, channels);
  const blocks = perBlock > 0 ? Math.floor(data.length / blockAlign) : 0;
  const out = new Uint8Array(blocks * perBlock * channels * 2);
  const pcm = new DataView(out.buffer);
  const src = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const write = (frame: number, c: number, v: number): void =>
    pcm.setInt16(2 * (frame * channels + c), v, true);
  for (let b = 0; b < blocks; b++) {
    const at = b * blockAlign;
    const first = b * perBlock;
    for (let c = 0; c < channels; c++) {
      let predictor = src.getInt16(at + 4 * c, true);
      let index = clamp(data[at + 4 * c + 2]!, 0, 88);
      write(first, c, predictor);
      // after the headers: per channel in turn, 4 bytes = 8 codes, low nibble first
      for (let s = 0; s < perBlock - 1; s++) {
        const group = Math.floor(s / 8);
        const byte = data[at + 4 * channels + (group * channels + c) * 4 + ((s % 8) >> 1)]!;
        const code = s % 2 === 0 ? byte & 0x0f : byte >> 4;
        const step = STEPS[index]!;
        const diff = ((2 * (code & 7) + 1) * step) >> 3;
        predictor = clamp(code & 8 ? predictor - diff : predictor + diff, -32768, 32767);
        index = clamp(index + INDEX_MOVES[code]!, 0, 88);
        write(first + 1 + s, c, predictor);
      }
    }
  }
  return out;
}
