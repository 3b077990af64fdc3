import { execFileSync } from 'node:child_process';
import { mkdtempSync, openAsBlob, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { av1CColour, parseSequenceHeaderColour } from './av1-seq.ts';
import { decodeColorSpace } from './decode-colour.ts';
import { nalToRbsp, parseSpsColour } from './h264-sps.ts';
import { openInput } from './input.ts';
import { guessColorSpace } from './stream-colour.ts';
import { vp9FrameColour, vpcCColour } from './vp9-header.ts';

const avcColorSpace = (
  container: VideoColorSpaceInit | null,
  avcC: Uint8Array,
  width: number,
  height: number,
) => decodeColorSpace('avc1.64001e', container, avcC, width, height);

const dir = mkdtempSync(join(tmpdir(), 'upframe-sps-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function ffmpeg(args: string[]): void {
  execFileSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', ...args], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
}

/** Encodes two frames of testsrc2 (libx264 unless `codec` says otherwise) into `name`. */
function clip(
  name: string,
  size: string,
  extra: string[],
  codec = ['-c:v', 'libx264', '-preset', 'ultrafast'],
): string {
  const out = join(dir, name);
  ffmpeg([
    ...['-f', 'lavfi', '-i', `testsrc2=size=${size}:rate=10`, '-frames:v', '2'],
    ...codec,
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
  /** Trailing one bit, zero-padded to whole bytes. */
  bytes(): number[] {
    this.bits.push(1);
    while (this.bits.length % 8) this.bits.push(0);
    const out: number[] = [];
    for (let i = 0; i < this.bits.length; i += 8) {
      out.push(this.bits.slice(i, i + 8).reduce((a, b) => a * 2 + b, 0));
    }
    return out;
  }
  /** RBSP trailing bits, then emulation prevention, then the SPS NAL header (0x67). */
  nal(): Uint8Array {
    const rbsp = this.bytes();
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

/** AV1 OBUs of `path` (ffmpeg's "obu" muxer: Annex-less low-overhead format, sizes present). */
function obuStream(path: string): Uint8Array {
  const out = `${path}.obu`;
  ffmpeg(['-i', path, '-c', 'copy', '-f', 'obu', out]);
  return new Uint8Array(readFileSync(out));
}

const av1 = (name: string, size: string, extra: string[]): string =>
  clip(name, size, extra, ['-c:v', 'libaom-av1', '-cpu-used', '8', '-row-mt', '1', '-b:v', '200k']);

describe('AV1 sequence header colour', () => {
  it('reads what libaom was told, from the OBUs an av1C record carries', () => {
    // A record's configOBUs are plain OBUs with sizes; a temporal delimiter comes first here.
    const record = (obus: Uint8Array) => Uint8Array.from([0x81, 0, 0, 0, ...obus]);
    const untagged = obuStream(av1('a.mkv', '320x240', ['-pix_fmt', 'yuv420p']));
    expect(av1CColour(record(untagged))).toEqual({
      fullRange: false,
      described: false,
      primaries: 2,
      transfer: 2,
      matrix: 2,
    });
    const tagged = obuStream(
      av1('b.mkv', '320x240', [
        ...['-pix_fmt', 'yuv420p', '-color_range', 'pc', '-colorspace', 'bt470bg'],
        ...['-color_primaries', 'bt709', '-color_trc', 'smpte170m'],
      ]),
    );
    expect(av1CColour(record(tagged))).toEqual({
      fullRange: true,
      described: true,
      primaries: 1,
      transfer: 6,
      matrix: 5,
    });
    expect(av1CColour(Uint8Array.from([0x81, 0, 0, 0]))).toBeNull();
    expect(av1CColour(record(tagged.subarray(0, 8)))).toBeNull();
  });

  it('skips timing, decoder-model, operating-point and frame-id fields by their lengths', () => {
    const w = new BitWriter().u(3, 0).u(1, 0).u(1, 0); // profile 0, not still, full header
    w.u(1, 1).u(32, 1001).u(32, 30000).u(1, 1).ue(0); // timing info, uvlc 0
    w.u(1, 1).u(5, 9).u(32, 90000).u(5, 4).u(5, 6); // decoder model: buffer delays 10 bits
    w.u(1, 1).u(5, 1); // initial display delay present, two operating points
    w.u(12, 0x103).u(5, 9).u(1, 1); // level 9 (> 7): a tier bit
    w.u(1, 1).u(10, 700).u(10, 300).u(1, 0); // this op's decoder model
    w.u(1, 1).u(4, 3); // this op's initial display delay
    w.u(12, 0).u(5, 4).u(1, 0).u(1, 0); // level 4: no tier bit; no model, no delay
    w.u(4, 10).u(4, 9).u(11, 1919).u(10, 1079); // frame size bits and maxima
    w.u(1, 1).u(4, 5).u(3, 2); // frame ids
    w.u(3, 0b011).u(4, 0b1010).u(1, 1).u(2, 0b11); // tools, order hint on, jnt + ref mvs
    w.u(1, 0).u(1, 1).u(1, 0).u(1, 1).u(3, 6); // screen content forced on, integer mv forced
    w.u(3, 0b011); // superres, cdef, restoration
    w.u(1, 0).u(1, 0).u(1, 1).u(8, 9).u(8, 16).u(8, 9).u(1, 0); // 8-bit, colour, limited
    expect(parseSequenceHeaderColour(Uint8Array.from(w.bytes()))).toEqual({
      fullRange: false,
      described: true,
      primaries: 9,
      transfer: 16,
      matrix: 9,
    });
  });

  it('decodes an untagged SD AV1 file as BT.601 and a tagged one as tagged', async () => {
    const untagged = join(dir, 'c.mp4');
    ffmpeg(['-i', join(dir, 'a.mkv'), '-c', 'copy', untagged]);
    for (const path of [untagged, join(dir, 'a.mkv')]) {
      const input = await openInput(await openAsBlob(path));
      expect(input.video!.decoderConfig.colorSpace, path).toMatchObject({
        matrix: 'smpte170m',
        fullRange: false,
      });
      input.close();
    }
    const input = await openInput(await openAsBlob(join(dir, 'b.mkv')));
    expect(input.video!.decoderConfig.colorSpace).toMatchObject({
      matrix: 'bt470bg',
      primaries: 'bt709',
      fullRange: true,
    });
    input.close();
  });
});

/** The frames of `path`'s video as an IVF file holds them (32-byte header, 12 bytes per frame). */
function ivfFrames(path: string): Uint8Array[] {
  const out = `${path}.ivf`;
  ffmpeg(['-i', path, '-c', 'copy', '-f', 'ivf', out]);
  const bytes = new Uint8Array(readFileSync(out));
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const frames: Uint8Array[] = [];
  for (let at = view.getUint16(6, true); at + 12 <= bytes.length;) {
    const size = view.getUint32(at, true);
    frames.push(bytes.subarray(at + 12, at + 12 + size));
    at += 12 + size;
  }
  return frames;
}

const vp9 = (name: string, size: string, extra: string[]): string =>
  clip(name, size, extra, ['-c:v', 'libvpx-vp9', '-deadline', 'realtime', '-cpu-used', '8']);

describe('VP9 colour', () => {
  it('reads what libvpx was told from a key frame, in profiles 0, 1 and 2', () => {
    const unsaid = { fullRange: false, described: false, primaries: 2, transfer: 2, matrix: 2 };
    const [key, inter] = ivfFrames(vp9('v.webm', '320x240', ['-pix_fmt', 'yuv420p']));
    expect(vp9FrameColour(key!)).toEqual(unsaid);
    expect(vp9FrameColour(inter!)).toBeNull(); // an inter frame has no color_config
    const cases: [string[], object][] = [
      [['-pix_fmt', 'yuv420p', '-colorspace', 'bt709'], { matrix: 1, fullRange: false }],
      [
        ['-pix_fmt', 'yuv420p', '-colorspace', 'bt470bg', '-color_range', 'pc'],
        { matrix: 5, fullRange: true },
      ],
      // profile 1 (4:4:4): subsampling bits follow the range bit
      [['-pix_fmt', 'yuv444p', '-colorspace', 'smpte170m'], { matrix: 6, fullRange: false }],
      // profile 2 (10 bits): a bit-depth bit comes before color_space; BT.2020 implies primaries
      [
        ['-pix_fmt', 'yuv420p10le', '-colorspace', 'bt2020nc'],
        { matrix: 9, primaries: 9, fullRange: false },
      ],
      // profile 3 (10 bits, 4:4:4): a reserved bit after the profile, and both of the above
      [['-pix_fmt', 'yuv444p10le', '-colorspace', 'bt709'], { matrix: 1, fullRange: false }],
      // RGB: no range bit, full range by definition
      [['-pix_fmt', 'gbrp'], { matrix: 0, fullRange: true }],
    ];
    cases.forEach(([extra, expected], k) => {
      const [frame] = ivfFrames(vp9(`t${k}.webm`, '320x240', extra));
      expect(vp9FrameColour(frame!), extra.join(' ')).toEqual({
        described: true,
        primaries: 2,
        transfer: 2,
        ...expected,
      });
    });
    expect(vp9FrameColour(key!.subarray(0, 3))).toBeNull(); // ends inside the header
    expect(vp9FrameColour(Uint8Array.from([0x40, 0, 0, 0]))).toBeNull(); // not a frame marker
  });

  it('reads the codes of a vpcC record, as ffmpeg writes one and made by hand', () => {
    // ffmpeg fills vpcC from what the stream says (here the key frame's matrix, via IVF, which
    // has no colour tags of its own); the payload starts after the box's version and flags
    const ivf = vp9('k.ivf', '320x240', ['-pix_fmt', 'yuv420p', '-colorspace', 'bt709']);
    const mp4 = join(dir, 'k.mp4');
    ffmpeg(['-i', ivf, '-c', 'copy', mp4]);
    const bytes = new Uint8Array(readFileSync(mp4));
    const at = Buffer.from(bytes).indexOf('vpcC') + 8;
    expect(vpcCColour(bytes.subarray(at, at + 8))).toEqual({
      fullRange: false,
      described: true,
      primaries: 2,
      transfer: 2,
      matrix: 1,
    });
    // made by hand: profile, level, depth/subsampling/range, the three codes
    const record = (byte2: number, codes: number[]) =>
      Uint8Array.from([0, 10, byte2, ...codes, 0, 0]);
    expect(vpcCColour(record(0x82, [2, 2, 2]))).toEqual({
      fullRange: false,
      described: false,
      primaries: 2,
      transfer: 2,
      matrix: 2,
    });
    expect(vpcCColour(record(0x83, [1, 13, 0]))).toEqual({
      fullRange: true,
      described: true,
      primaries: 1,
      transfer: 13,
      matrix: 0,
    });
    expect(vpcCColour(record(0x82, [1]).subarray(0, 5))).toBeNull();
  });

  it('decodes untagged VP9 as BT.601 at SD and BT.709 at HD, in WebM and MP4; tagged as tagged', async () => {
    const cases: [string, string, VideoMatrixCoefficients][] = [
      ['u-sd', '320x240', 'smpte170m'],
      ['u-hd', '1280x720', 'bt709'],
    ];
    for (const [name, size, matrix] of cases) {
      const webm = vp9(`${name}.webm`, size, ['-pix_fmt', 'yuv420p', '-frames:v', '1']);
      const mp4 = join(dir, `${name}.mp4`);
      ffmpeg(['-i', webm, '-c', 'copy', mp4]);
      for (const path of [webm, mp4]) {
        const input = await openInput(await openAsBlob(path));
        expect(input.video!.decoderConfig.colorSpace, path).toMatchObject({
          matrix,
          fullRange: false,
        });
        input.close();
      }
    }
    const tagged = vp9('w.webm', '1280x720', [
      ...['-pix_fmt', 'yuv420p', '-colorspace', 'bt470bg', '-color_range', 'pc'],
      ...['-frames:v', '1'],
    ]);
    const input = await openInput(await openAsBlob(tagged));
    expect(input.video!.decoderConfig.colorSpace).toMatchObject({
      matrix: 'bt470bg',
      fullRange: true,
    });
    input.close();
  });

  it('reads the key frame of an MP4 whose vpcC leaves the colour unspecified', async () => {
    // k.mp4's vpcC says matrix 1 (BT.709) at SD; with that byte set to 2 only the key frame
    // still says BT.709, and the SD guess (BT.601) must not win.
    const bytes = new Uint8Array(readFileSync(join(dir, 'k.mp4')));
    const at = Buffer.from(bytes).indexOf('vpcC') + 8;
    expect(bytes[at + 5]).toBe(1);
    bytes[at + 5] = 2;
    const patched = join(dir, 'k-unsaid.mp4');
    writeFileSync(patched, bytes);
    const input = await openInput(await openAsBlob(patched));
    expect(input.video!.decoderConfig.colorSpace).toMatchObject({ matrix: 'bt709' });
    input.close();
  });
});
