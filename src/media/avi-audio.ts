/**
 * Sound formats of camera and dashcam AVI files that no output container holds, turned into
 * 16-bit PCM (which MP4 and MKV hold, and every player plays) as the packets are read:
 *
 * - 8-bit PCM (older Canon, Nikon and Kodak cameras: unsigned, mono, 8-11 kHz): each sample
 *   moved to 16 bits exactly ((v - 128) x 256);
 * - IMA ADPCM (WAVE_FORMAT_IMA_ADPCM, 0x11; cheap dashcams and action cameras): each block
 *   decoded on its own (it starts with each channel's predictor and step index), the same
 *   samples ffmpeg's decoder gives.
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

/** Unsigned 8-bit PCM to signed 16-bit little-endian PCM. */
export function u8ToS16(data: Uint8Array): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(data.length * 2);
  for (let i = 0; i < data.length; i++) out[2 * i + 1] = (data[i]! - 128) & 0xff;
  return out;
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
