import { execFileSync } from 'node:child_process';
import { mkdtempSync, openAsBlob, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { avcColorSpace, guessColorSpace, nalToRbsp, parseSpsColour } from './h264-sps.ts';
import { openInput } from './input.ts';

const dir = mkdtempSync(join(tmpdir(), 'upframe-sps-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function ffmpeg(args: string[]): void {
  execFileSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', ...args], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
}

/** Encodes two frames of testsrc2 with libx264 into `name` (raw .h264, .mp4 or .mkv). */
function clip(name: string, size: string, extra: string[]): string {
  const out = join(dir, name);
  ffmpeg([
    ...['-f', 'lavfi', '-i', `testsrc2=size=${size}:rate=10`, '-frames:v', '2'],
    ...['-c:v', 'libx264', '-preset', 'ultrafast'],
    ...extra,
    out,
  ]);
  return out;
}

/** The first SPS NAL unit (header byte included) of an Annex-B stream. */
function firstSps(annexB: Uint8Array): Uint8Array {
  const starts: number[] = [];
  for (let i = 0; i + 3 <= annexB.length; i++) {
    if (annexB[i] === 0 && annexB[i + 1] === 0 && annexB[i + 2] === 1) starts.push(i + 3);
  }
  for (let k = 0; k < starts.length; k++) {
    const s = starts[k]!;
    if ((annexB[s]! & 0x1f) !== 7) continue;
    let end = k + 1 < starts.length ? starts[k + 1]! - 3 : annexB.length;
    while (end > s && annexB[end - 1] === 0) end--; // a 4-byte start code's leading zero
    return annexB.subarray(s, end);
  }
  throw new Error('no SPS in stream');
}

const spsOf = (name: string, size: string, extra: string[]): Uint8Array =>
  firstSps(new Uint8Array(readFileSync(clip(name, size, [...extra, '-f', 'h264']))));

/** An avcC record around one SPS (no PPS: the colour reader needs only the SPS). */
function avcC(sps: Uint8Array): Uint8Array {
  return Uint8Array.from([
    1,
    sps[1]!,
    sps[2]!,
    sps[3]!,
    0xff,
    0xe1,
    sps.length >> 8,
    sps.length & 0xff,
    ...sps,
  ]);
}

/** MSB-first bit writer for hand-made SPS payloads. */
class BitWriter {
  private bits: number[] = [];
  u(n: number, v: number): this {
    for (let i = n - 1; i >= 0; i--) this.bits.push(Math.floor(v / 2 ** i) % 2);
    return this;
  }
  ue(v: number): this {
    const len = Math.floor(Math.log2(v + 1));
    return this.u(len, 0).u(len + 1, v + 1);
  }
  se(v: number): this {
    return this.ue(v > 0 ? 2 * v - 1 : -2 * v);
  }
  /** RBSP trailing bits, then emulation prevention, then the SPS NAL header (0x67). */
  nal(): Uint8Array {
    this.bits.push(1);
    while (this.bits.length % 8) this.bits.push(0);
    const rbsp: number[] = [];
    for (let i = 0; i < this.bits.length; i += 8) {
      rbsp.push(this.bits.slice(i, i + 8).reduce((a, b) => a * 2 + b, 0));
    }
    const out = [0x67];
    let zeros = 0;
    for (const b of rbsp) {
      if (zeros >= 2 && b <= 3) {
        out.push(3);
        zeros = 0;
      }
      out.push(b);
      zeros = b === 0 ? zeros + 1 : 0;
    }
    return Uint8Array.from(out);
  }
}

describe('H.264 SPS colour', () => {
  it('reads what x264 was told, through high-profile and 4:4:4 fields and cropping', () => {
    const bt709 = ['-colorspace', 'bt709', '-color_primaries', 'bt709', '-color_trc', 'bt709'];
    expect(parseSpsColour(spsOf('a.h264', '320x240', ['-pix_fmt', 'yuv420p']))).toEqual({
      fullRange: false,
      described: false,
      primaries: 2,
      transfer: 2,
      matrix: 2,
    });
    expect(parseSpsColour(spsOf('b.h264', '320x240', ['-pix_fmt', 'yuv420p', ...bt709]))).toEqual({
      fullRange: false,
      described: true,
      primaries: 1,
      transfer: 1,
      matrix: 1,
    });
    // Full range BT.601 (PAL primaries), 4:4:4 (chroma_format_idc 3).
    const pal = ['-colorspace', 'bt470bg', '-color_primaries', 'bt470bg', '-color_trc', 'gamma28'];
    const sps444 = spsOf('c.h264', '322x182', [
      ...['-pix_fmt', 'yuv444p', '-color_range', 'pc', ...pal],
    ]);
    expect(sps444[1]).toBe(244); // High 4:4:4 Predictive
    expect(parseSpsColour(sps444)).toEqual({
      fullRange: true,
      described: true,
      primaries: 5,
      transfer: 5,
      matrix: 5,
    });
    // Baseline: none of the high-profile fields; 322x182 needs frame cropping.
    const base = spsOf('d.h264', '322x182', [
      ...['-pix_fmt', 'yuv420p', '-profile:v', 'baseline'],
      ...['-colorspace', 'smpte170m', '-color_primaries', 'smpte170m', '-color_trc', 'smpte170m'],
    ]);
    expect(base[1]).toBe(66);
    expect(parseSpsColour(base)).toMatchObject({ described: true, primaries: 6, matrix: 6 });
  });

  it('removes emulation-prevention bytes before reading', () => {
    // Baseline, level 0, every ue() 0 where allowed: the payload holds 00 00 0x runs.
    const w = new BitWriter()
      .u(8, 66)
      .u(8, 0)
      .u(8, 0)
      .ue(0) // sps id
      .ue(0) // log2_max_frame_num_minus4
      .ue(2) // pic_order_cnt_type 2
      .ue(0) // max_num_ref_frames
      .u(1, 0)
      .ue(19) // width 320
      .ue(14) // height 240
      .u(1, 1) // frame_mbs_only
      .u(1, 1) // direct_8x8
      .u(1, 0) // no cropping
      .u(1, 1) // VUI
      .u(1, 1)
      .u(8, 255) // Extended_SAR
      .u(16, 0)
      .u(16, 0) // sar 0:0, sixteen zero bits in a row
      .u(1, 0)
      .u(1, 1) // video signal type
      .u(3, 5)
      .u(1, 1) // full range
      .u(1, 1)
      .u(8, 1)
      .u(8, 13)
      .u(8, 1);
    const nal = w.nal();
    expect(nalToRbsp(nal.subarray(1)).length).toBeLessThan(nal.length - 1);
    expect(parseSpsColour(nal)).toEqual({
      fullRange: true,
      described: true,
      primaries: 1,
      transfer: 13,
      matrix: 1,
    });
    expect(() => parseSpsColour(nal.subarray(0, 12))).toThrow(RangeError);
  });

  it('skips SPS scaling lists by their length (x264 writes its lists in the PPS)', () => {
    const w = new BitWriter().u(8, 100).u(8, 0).u(8, 40).ue(0);
    w.ue(1).ue(0).ue(0).u(1, 0); // 4:2:0, 8-bit, no bypass
    w.u(1, 1); // seq_scaling_matrix_present_flag, then 8 lists: 0 (4x4) and 6 (8x8) sent
    for (let i = 0; i < 8; i++) {
      const sent = i === 0 || i === 6;
      w.u(1, sent ? 1 : 0);
      if (sent) for (let j = 0; j < (i < 6 ? 16 : 64); j++) w.se((j % 3) - 1);
    }
    w.ue(0).ue(0).ue(0).ue(1).u(1, 0).ue(44).ue(35).u(1, 1).u(1, 1).u(1, 0);
    w.u(1, 1).u(1, 0).u(1, 0).u(1, 1).u(3, 5).u(1, 0).u(1, 1).u(8, 9).u(8, 16).u(8, 9);
    expect(parseSpsColour(w.nal())).toEqual({
      fullRange: false,
      described: true,
      primaries: 9,
      transfer: 16,
      matrix: 9,
    });
  });

  it('guesses BT.601 for untagged SD and BT.709 for HD, filling only what nothing said', () => {
    expect(guessColorSpace(720, 576)).toMatchObject({ primaries: 'bt470bg', matrix: 'smpte170m' });
    expect(guessColorSpace(720, 480)).toMatchObject({
      primaries: 'smpte170m',
      matrix: 'smpte170m',
    });
    expect(guessColorSpace(1280, 536)).toMatchObject({ matrix: 'bt709' });
    expect(guessColorSpace(960, 720)).toMatchObject({ matrix: 'bt709' });
    const untagged = avcC(spsOf('e.h264', '320x240', ['-pix_fmt', 'yuv420p']));
    expect(avcColorSpace(null, untagged, 320, 240)).toEqual({
      primaries: 'bt709',
      transfer: 'smpte170m',
      matrix: 'smpte170m',
      fullRange: false,
    });
    expect(avcColorSpace(null, untagged, 1920, 1080)).toMatchObject({ matrix: 'bt709' });
    // The container's tags win; the SPS's come next; the guess only fills what is missing.
    expect(avcColorSpace({ matrix: 'bt709', fullRange: false }, untagged, 320, 240)).toEqual({
      primaries: 'bt709',
      transfer: 'smpte170m',
      matrix: 'bt709',
      fullRange: false,
    });
    const fullPal = avcC(
      spsOf('f.h264', '320x240', [
        ...['-pix_fmt', 'yuv420p', '-color_range', 'pc', '-colorspace', 'bt470bg'],
      ]),
    );
    expect(avcColorSpace(null, fullPal, 320, 240)).toEqual({
      primaries: 'bt709',
      transfer: 'smpte170m',
      matrix: 'bt470bg',
      fullRange: true,
    });
    // A record that cannot be read leaves the decoder's defaults alone.
    expect(
      avcColorSpace(null, Uint8Array.from([1, 100, 0, 30, 0xff, 0xe1, 0, 40, 0x67]), 320, 240),
    ).toBeNull();
  });

  it('decodes an untagged SD H.264 file as BT.601 in MP4 and MKV, a tagged one as tagged', async () => {
    const mp4 = clip('g.mp4', '320x240', ['-pix_fmt', 'yuv420p']);
    const mkv = join(dir, 'g.mkv');
    ffmpeg(['-i', mp4, '-c', 'copy', mkv]);
    for (const path of [mp4, mkv]) {
      const input = await openInput(await openAsBlob(path));
      expect(input.video!.colorSpace).toMatchObject({ matrix: 'smpte170m', fullRange: false });
      expect(input.video!.decoderConfig.colorSpace).toMatchObject({ matrix: 'smpte170m' });
      input.close();
    }
    const tagged = clip('h.mp4', '320x240', [
      ...['-pix_fmt', 'yuv420p', '-colorspace', 'bt709', '-color_primaries', 'bt709'],
      ...['-color_trc', 'bt709'],
    ]);
    const input = await openInput(await openAsBlob(tagged));
    expect(input.video!.colorSpace).toEqual({
      primaries: 'bt709',
      transfer: 'bt709',
      matrix: 'bt709',
      fullRange: false,
    });
    input.close();
  });
});
