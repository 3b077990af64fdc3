import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { makeStream, type PicSpec } from '../../../test/mpeg2-field-stream.ts';
import { Mpeg2Decoder } from './decoder.ts';

// Field pictures (two pictures a frame, as some broadcast encoders write them): no encoder on
// these machines writes them, so test/mpeg2-field-stream.ts writes streams bit by bit with every
// kind of field macroblock (intra with concealment vectors, field and 16x8 prediction with
// random field selects, skipped and no-MC macroblocks, slices starting mid-row), and each is
// compared with ffmpeg's decode of it.
const dir = mkdtempSync(join(tmpdir(), 'mpeg2-fields-'));

/** Each field picture a packet, as a transport stream's PES packets may carry them. */
function pictures(es: Uint8Array): Uint8Array[] {
  const starts: number[] = [];
  let sequence = -1;
  for (let p = 0; p + 3 < es.length; p++) {
    if (es[p] !== 0 || es[p + 1] !== 0 || es[p + 2] !== 1) continue;
    const code = es[p + 3]!;
    if ((code === 0xb3 || code === 0xb8) && sequence < 0) sequence = p;
    if (code === 0) {
      starts.push(sequence >= 0 ? sequence : p);
      sequence = -1;
    }
  }
  return starts.map((s, k) => es.subarray(s, starts[k + 1] ?? es.length));
}

function psnr(a: Uint8Array, b: Uint8Array): number {
  let se = 0;
  for (let k = 0; k < a.length; k++) se += (a[k]! - b[k]!) ** 2;
  return se === 0 ? Infinity : 10 * Math.log10((255 * 255 * a.length) / se);
}

/** Per-frame PSNR of our decode against ffmpeg's; fails on a damaged slice or a lost frame. */
function compare(
  name: string,
  width: number,
  height: number,
  seed: number,
  pics: PicSpec[],
  fCode?: number,
): number[] {
  const es = makeStream({ width, height, seed, pictures: pics, fCode });
  const path = join(dir, `${name}.m2v`);
  writeFileSync(path, es);
  const reference = execFileSync('ffmpeg', [
    ...['-hide_banner', '-loglevel', 'error', '-i', path],
    ...['-fps_mode', 'passthrough', '-f', 'rawvideo', '-pix_fmt', 'yuv420p', '-'],
  ]);
  const frames: Uint8Array[] = [];
  const decoder = new Mpeg2Decoder((f) => {
    const out = new Uint8Array((width * height * 3) / 2);
    let o = 0;
    for (let y = 0; y < height; y++, o += width)
      out.set(f.data.subarray(y * f.width, y * f.width + width), o);
    for (const at of [f.chromaAt, f.crAt]) {
      for (let y = 0; y < height / 2; y++, o += width / 2) {
        const from = at + (y * f.width) / 2;
        out.set(f.data.subarray(from, from + width / 2), o);
      }
    }
    frames.push(out);
  });
  decoder.configure();
  pictures(es).forEach((p, k) => decoder.decode(p, k * 20_000, 20_000));
  decoder.flush();
  expect(decoder.damagedSlices, name).toBe(0);
  const bytes = (width * height * 3) / 2;
  expect(frames.length, name).toBe(reference.length / bytes);
  return frames.map((f, k) => psnr(f, reference.subarray(k * bytes, (k + 1) * bytes)));
}

// coded order: an I field pair, a P pair bottom first (its first field predicting from both
// fields of the I frame, its second from its own first field too), B pairs in both orders, a P
// frame picture, and a P pair with the non-linear quantiser scale
const GOP: PicSpec[] = [
  { type: 1, structure: 1, tr: 0, conceal: true },
  { type: 1, structure: 2, tr: 0 },
  { type: 2, structure: 2, tr: 3, conceal: true },
  { type: 2, structure: 1, tr: 3 },
  { type: 3, structure: 1, tr: 1, conceal: true },
  { type: 3, structure: 2, tr: 1 },
  { type: 3, structure: 2, tr: 2 },
  { type: 3, structure: 1, tr: 2 },
  { type: 2, structure: 3, tr: 4 },
  { type: 2, structure: 1, tr: 5, qScaleType: 1 },
  { type: 2, structure: 2, tr: 5, conceal: true },
];

describe('MPEG-2 field pictures', () => {
  it('decode as ffmpeg decodes them, for every f_code and a picture wider than 33 macroblocks', () => {
    for (let seed = 10; seed < 22; seed++) {
      const fCode = [1, 2, 3, 5][seed % 4]!;
      const [w, h] = seed === 21 ? [720, 64] : seed % 3 === 0 ? [176, 64] : [80, 96];
      const scores = compare(`s${seed}`, w, h, seed, GOP, fCode);
      expect(Math.min(...scores), `seed ${seed}`).toBeGreaterThan(60);
    }
  });

  it('predict the P field after an I field at the start from that I field', () => {
    // an I/P field pair opening a stream (how field-coded broadcast makes its key frames): the
    // P field can predict only from the I field before it; it was lost before (10 dB)
    for (const [seed, first] of [
      [1, 1],
      [2, 2],
    ] as const) {
      const second = first === 1 ? 2 : 1;
      const scores = compare(`ip${first}`, 80, 96, seed, [
        { type: 1, structure: first, tr: 0 },
        { type: 2, structure: second, tr: 0, selects: [first - 1], noSkip: true, forceMc: true },
        { type: 2, structure: first, tr: 1 },
        { type: 2, structure: second, tr: 1 },
      ]);
      expect(Math.min(...scores)).toBeGreaterThan(60);
    }
  });

  it('a B field after 16x8 prediction skips with the predictors, as ffmpeg has it', () => {
    const pics: PicSpec[] = GOP.map((p) => (p.type === 3 ? { ...p, skipAfter16x8: true } : p));
    for (const seed of [1, 2, 3]) {
      expect(Math.min(...compare(`b16x8-${seed}`, 80, 96, seed, pics))).toBeGreaterThan(60);
    }
  });

  it('a lost second field leaves its frame with one field, not paired with the next picture', () => {
    // I frame, then a P field whose other field was lost, then a B field pair starting with the
    // other parity: the B field is not taken for the P frame's second field
    const es = makeStream({
      width: 80,
      height: 96,
      seed: 5,
      pictures: [
        { type: 1, structure: 1, tr: 0 },
        { type: 1, structure: 2, tr: 0 },
        { type: 2, structure: 1, tr: 2 },
        { type: 3, structure: 2, tr: 1 },
        { type: 3, structure: 1, tr: 1 },
      ],
    });
    const shown: number[] = [];
    const decoder = new Mpeg2Decoder((f) => shown.push(f.timestamp));
    decoder.configure();
    pictures(es).forEach((p, k) => decoder.decode(p, k * 20_000, 20_000));
    decoder.flush();
    // packets: I top (0), I bottom, P top (40 ms), B bottom (60 ms), B top: shown I, B, P
    expect(shown).toEqual([0, 60_000, 40_000]);
  });
});
