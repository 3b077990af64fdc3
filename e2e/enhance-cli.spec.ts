/**
 * `npm run enhance` on ffmpeg-made fixtures, checked with ffprobe/ffmpeg: the media path must keep
 * frame count, duration, display size, rotation and the audio packets, and bad input must end in
 * its error code quickly.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ensureMediaFixtures, fixturePath, type FixtureName } from '../test/media-fixtures.ts';
import { expect, test } from './guard.ts';
import {
  audioMd5,
  enhance,
  enhanceInPage,
  ffmpeg,
  decodedFramePts,
  framePts,
  psnr,
  srtOf,
  startTime,
  videoFacts,
} from './media-tools.ts';

const OUT = resolve('test-results', 'enhance-cli');

test.beforeAll(() => {
  ensureMediaFixtures();
  rmSync(OUT, { recursive: true, force: true });
  mkdirSync(OUT, { recursive: true });
});

const IDENTITY_CASES: [FixtureName, string][] = [
  ['h264-aac.mp4', 'out.mp4'],
  ['vp9-opus.webm', 'out.mp4'],
  ['av1-opus.mp4', 'out.mp4'],
  ['odd-322x182.mp4', 'out.mp4'],
  ['rotated-90.mp4', 'out.mp4'],
  ['vfr-mp3.mp4', 'out.mp4'],
  // camera/editor MOV: PCM copied as MP4 PCM (ISO 23003-5), AAC from a QuickTime 'wave' box
  ['pcm-s16.mov', 'out.mp4'],
  ['aac.mov', 'out.mp4'],
  // Dolby audio is copied (for players that decode it; Chromium does not)
  ['ac3.mkv', 'out.mp4'],
  ['eac3.mp4', 'out.mp4'],
  // transport streams: a TV recording (its clock at 1000 s) and an AVCHD camcorder's file
  ['h264-aac.ts', 'out.mp4'],
  ['avchd.m2ts', 'out.mp4'],
  // 10-bit and 4:4:4, which the encoders refuse as decoded: brought to 8-bit 4:2:0
  ['h264-10bit.mp4', 'out.mp4'],
  ['h264-444.mp4', 'out.mp4'],
  // Motion JPEG (older cameras, webcams), which the browser's VideoDecoder does not take: each
  // frame goes through its image decoder
  ['mjpeg.mov', 'out.mp4'],
  ['mjpeg.mkv', 'out.mp4'],
  // a camera's or dashcam's AVI: Motion JPEG with PCM sound, copied byte for byte
  ['mjpeg.avi', 'out.mp4'],
  // a dashcam's H.264 in AVI (no B-frames), and with its parameter sets in the stream format
  ['h264.avi', 'out.mp4'],
  ['h264-global.avi', 'out.mp4'],
  // and with B-frames, shown in the order of their picture order counts (AVI keeps none)
  ['h264-bframes.avi', 'out.mp4'],
  // MPEG-2 (a DVD rip in Matroska), which our own decoder reads, with its AC-3 copied
  ['mpeg2.mkv', 'out.mp4'],
  ['mpeg2.mov', 'out.mp4'],
  ['mpeg2.avi', 'out.mp4'],
  ['mpeg1.mp4', 'out.mp4'],
  // MPEG program streams: a DVD's VOB (two AC-3 tracks), an .mpg with MP2 sound (kept in MP4 as
  // MPEG-1 audio), MPEG-1 with MP3, and a VCD's .dat
  ['dvd.vob', 'out.mp4'],
  ['mpeg2-mp2.mpg', 'out.mp4'],
  ['mpeg1-mp3.mpg', 'out.mp4'],
  ['vcd.dat', 'out.mp4'],
  // television recordings' transport streams with MPEG-2 video (read by our own reader: mediabunny
  // leaves MPEG-2 out), with MP2 and with AAC sound
  ['mpeg2-mp2.ts', 'out.mp4'],
  ['mpeg2-aac.ts', 'out.mp4'],
  // MP2 sound in Matroska (which mediabunny does not read), kept into MP4
  ['h264-mp2.mkv', 'out.mp4'],
];

for (const [fixture, outName] of IDENTITY_CASES) {
  test(`identity transcode keeps ${fixture}`, async ({ page }) => {
    const input = fixturePath(fixture);
    const output = join(OUT, `${fixture}.${outName}`);
    await enhanceInPage(page, input, output);
    const src = videoFacts(input);
    const out = videoFacts(output);
    expect(out.frames).toBe(src.frames);
    expect([out.width, out.height, out.rotation]).toEqual([src.width, src.height, src.rotation]);
    // every frame keeps its presentation time (VFR stays VFR), to the millisecond; a transport
    // stream's from its first packet, as players show it
    const shift = /\.(ts|m2ts|vob|mpg|dat)$/.test(fixture) ? startTime(input) : 0;
    // (a program stream's last picture may have no time: ffprobe's video duration leaves it out)
    const ps = /\.(vob|mpg|dat)$/.test(fixture);
    const srcPts = ps ? decodedFramePts(input) : framePts(input);
    const srcDuration = ps
      ? srcPts.at(-1)! - srcPts[0]! + (srcPts[1]! - srcPts[0]!)
      : src.durationSeconds;
    const outPts = framePts(output);
    expect(outPts.length).toBe(srcPts.length);
    for (let i = 0; i < srcPts.length; i++)
      expect(Math.abs(outPts[i]! - (srcPts[i]! - shift))).toBeLessThan(1e-3);
    const frame = srcDuration / src.frames;
    if (fixture !== 'vfr-mp3.mp4') {
      expect(Math.abs(out.durationSeconds - srcDuration)).toBeLessThanOrEqual(frame + 1e-3);
    } else {
      // This file's own tables disagree: its edit list says 1.75 s while its sample table gives
      // the last frame (at 1.875 s) 0.208 s. Upframe keeps the sample table's times, so the
      // output ends where the source's last frame ends by its sample table.
      expect(out.durationSeconds).toBeCloseTo(1.875 + 0.208333, 3);
    }
    expect(out.hasAudio).toBe(src.hasAudio);
    // (AAC from a transport stream comes in ADTS frames: compared without their headers)
    const adts = fixture === 'h264-aac.ts' || fixture === 'mpeg2-aac.ts';
    if (src.hasAudio) expect(audioMd5(output)).toBe(audioMd5(input, adts ? 'aac_adtstoasc' : null));
    // 4:2:2 Motion JPEG goes through RGB (the image decoder's) to 4:2:0: its colour edges lose
    // half their rows of chroma (luma 40 dB, chroma 33-35); a wrong matrix or range is under 25
    expect(psnr(output, input)).toBeGreaterThan(fixture === 'mjpeg.mov' ? 35 : 38);
  });
}

// The command's way out of a bad input (its code on stderr, exit 1, no output file left), for a
// file no reader takes and one whose codec this browser cannot decode; the code of every kind
// of bad input is the worker's, tested in the browser (src/media/probe.browser.test.ts).
const BAD_INPUTS: [FixtureName, string][] = [
  ['random.bin', 'UNSUPPORTED_CONTAINER'],
  ['hevc.mp4', 'UNSUPPORTED_CODEC'],
];

test('an odd-sized clip into H.264 (which takes even sizes only) loses its last column and row, and says so', () => {
  const input = fixturePath('odd-161x91.webm');
  const output = join(OUT, 'odd-161x91.out.mp4');
  const r = enhance(input, output, '--model', 'none');
  expect(r.status, r.stderr).toBe(0);
  expect(r.stdout).toContain(
    'warning: H.264 takes only even frame sizes: the last column and the last row of pixels ' +
      'were left out (161x91 becomes 160x90); VP9 and AV1 keep every pixel.',
  );
  const facts = videoFacts(output);
  expect([facts.frames, facts.width, facts.height]).toEqual([videoFacts(input).frames, 160, 90]);
  // the pixels kept are the source's top-left 160x90, unscaled and unshifted
  const crop = (x: number, y: number): string => {
    const path = join(OUT, `odd-161x91.crop-${x}-${y}.mkv`);
    ffmpeg(['-i', input, '-vf', `crop=160:90:${x}:${y}:exact=1`, '-an', '-c:v', 'ffv1', path]);
    return path;
  };
  // (VP9 decoded and encoded again as H.264: about 38 dB on this busy pattern)
  const [kept, shifted] = [psnr(output, crop(0, 0)), psnr(output, crop(1, 1))];
  expect(kept, `${kept} ${shifted}`).toBeGreaterThan(35);
  expect(shifted, `${kept} ${shifted}`).toBeLessThan(kept - 10);
});

for (const [fixture, code] of BAD_INPUTS) {
  test(`${fixture} ends in ${code.split(':')[0]} without leaving an output`, () => {
    const output = join(OUT, `${fixture}.bad.mp4`);
    const r = enhance(fixturePath(fixture), output, '--model', 'none');
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(code.includes(':') ? code : `${code}:`);
    expect(existsSync(output)).toBe(false);
  });
}

// MP4 with its index first: the index lists 48 frames, the file holds fewer. WebM in one 2-s
// cluster or in quarter-second clusters: its header declares 2 s, the file holds the whole blocks
// before the cut.
const CUT_SHORT: [FixtureName, RegExp][] = [
  ['truncated-body.mp4', /warning: This file is cut short: it holds (\d+) of its 48 frames/],
  // (its index lists only the fragments it has, the last one whole: fewer than 48 frames)
  ['truncated-frag.mp4', /warning: This file is cut short: it holds (\d+) of its \d+ frames/],
  ['truncated.webm', /warning: This file is cut short: it holds (\d+) frames \(.* of 2\.0 s\)/],
  [
    'truncated-clusters.webm',
    /warning: This file is cut short: it holds (\d+) frames \(.* of 2\.0 s\)/,
  ],
  // a camera's AVI cut by a power loss: no index, its last chunk cut in half
  ['mjpeg-cut.avi', /warning: This file is cut short: it holds (\d+) frames \(.* of 1\.0 s\)/],
];

for (const [fixture, pattern] of CUT_SHORT) {
  test(`${fixture}, cut short, is enhanced up to the cut, with a warning that says so`, () => {
    const input = fixturePath(fixture);
    const output = join(OUT, `${fixture}.out.mp4`);
    const r = enhance(input, output, '--model', 'none');
    expect(r.status, r.stderr).toBe(0);
    const warning = pattern.exec(r.stdout);
    expect(warning, r.stdout).not.toBeNull();
    const held = Number(warning![1]);
    expect(held).toBeGreaterThan(10);
    expect(held).toBeLessThan(48);
    // every frame it holds is in the output, at the source's times, and decodes
    expect(videoFacts(output).frames).toBe(held);
    const srcPts = framePts(input).slice(0, held);
    const pts = framePts(output);
    expect(pts.length).toBe(held);
    pts.forEach((t, i) => expect(Math.abs(t - srcPts[i]!)).toBeLessThan(1e-3));
  });
}

test('every audio track is kept, the one a player picks first still first, with its language and title', () => {
  const md5 = (path: string, stream: string): string =>
    execFileSync('ffmpeg', [
      ...['-v', 'error', '-i', path, '-map', stream, '-c', 'copy', '-f', 'md5', '-'],
    ])
      .toString()
      .trim();
  const tags = (path: string): string[] =>
    (
      JSON.parse(
        execFileSync('ffprobe', [
          ...['-v', 'error', '-select_streams', 'a', '-show_entries'],
          ...['stream_tags=language,title:stream_disposition=default', '-of', 'json', path],
        ]).toString(),
      ) as {
        streams: {
          tags?: { language?: string; title?: string };
          disposition: { default: number };
        }[];
      }
    ).streams.map(
      (st) => `${st.tags?.language ?? ''}/${st.tags?.title ?? ''}/${st.disposition.default}`,
    );
  const input = fixturePath('two-audio.mp4');
  const output = join(OUT, 'two-audio.out.mp4');
  const r = enhance(input, output, '--model', 'none');
  expect(r.status, r.stderr).toBe(0);
  expect(r.stdout).not.toContain('warning');
  expect(r.stdout).toContain('2 audio tracks copied (96 packets)');
  // the French (default) track first, then the English one, each packet for packet
  expect(md5(output, '0:a:0')).toBe(md5(input, '0:a:1'));
  expect(md5(output, '0:a:1')).toBe(md5(input, '0:a:0'));
  expect(tags(output)).toEqual(['fra//1', 'eng//0']);
  // from Matroska, with a track title, and a frame range: both tracks, each cut to the range
  const part = join(OUT, 'two-audio.part.mkv');
  expect(
    enhance(fixturePath('two-audio.mkv'), part, '--model', 'none', '--frames', '12:24').status,
  ).toBe(0);
  const seconds = (stream: string): number =>
    Number(
      execFileSync('ffprobe', [
        ...['-v', 'error', '-select_streams', stream, '-show_entries', 'packet=duration_time'],
        ...['-of', 'csv=p=0', part],
      ])
        .toString()
        .trim()
        .split('\n')
        .filter(Boolean)
        .reduce((sum, d) => sum + Number(d.replace(/,$/, '')), 0)
        .toFixed(2),
    );
  expect(tags(part)).toEqual(['fra//1', 'eng/Commentary/0']);
  expect(seconds('a:0')).toBeCloseTo(0.5, 1);
  expect(seconds('a:1')).toBeCloseTo(0.5, 1);
});

test("an MP4's timed-text subtitles are kept as SRT in the MKV asked for, and an MP4 asked for says they were left out", () => {
  const output = join(OUT, 'subtitled.out.mkv');
  rmSync(output, { force: true });
  const r = enhance(fixturePath('subtitled.mp4'), output, '--model', 'none');
  expect(r.status, r.stderr).toBe(0);
  expect(r.stdout).toContain('audio packets copied, 2 subtitle tracks kept');
  const srt = (k: number): string => srtOf(output, k);
  expect(srt(0)).toBe(
    '1\n00:00:00,221 --> 00:00:00,921\nHello <i>there</i>\n\n' +
      '2\n00:00:01,021 --> 00:00:01,821\nSecond & line\nwith two rows\n\n' +
      '3\n00:00:02,521 --> 00:00:03,521\nThird\n\n',
  );
  expect(srt(1)).toContain('<b>Bonjour</b>\nle monde');
  const mp4 = join(OUT, 'subtitled.out.mp4');
  rmSync(mp4, { force: true });
  const m = enhance(fixturePath('subtitled.mp4'), mp4, '--model', 'none');
  expect(m.status, m.stderr).toBe(0);
  expect(m.stdout).toContain(
    "warning: The clip's 2 subtitle tracks were left out: only an MKV file keeps them.",
  );
});

test("a dashcam's IMA ADPCM and a camera's 8-bit sound are kept as 16-bit PCM, sample for sample", () => {
  const pcm = (path: string): Buffer =>
    execFileSync('ffmpeg', ['-v', 'error', '-i', path, '-map', '0:a', '-f', 's16le', '-'], {
      maxBuffer: 1 << 26,
    });
  for (const fixture of ['dashcam.avi', 'camera-u8.avi'] as const) {
    const input = fixturePath(fixture);
    const output = join(OUT, `${fixture}.out.mp4`);
    const r = enhance(input, output, '--model', 'none');
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).not.toContain('left out');
    const source = pcm(input);
    expect(source.length).toBeGreaterThan(11025);
    expect(pcm(output).equals(source), fixture).toBe(true);
  }
});

test('audio no MP4 can hold is left out with a warning, and the video is made', () => {
  const output = join(OUT, 'pcm-96k.out.mp4');
  const r = enhance(fixturePath('pcm-96k.mov'), output, '--model', 'none');
  expect(r.status, r.stderr).toBe(0);
  expect(r.stdout).toContain(
    'warning: The PCM (24-bit, 96 kHz) audio cannot be copied and was left out.',
  );
  const out = videoFacts(output);
  expect([out.frames, out.hasAudio]).toEqual([48, false]);
});

for (const fixture of ['anamorphic.mp4', 'anamorphic.mkv'] as const) {
  test(`${fixture}: the enhanced file keeps the source's pixel aspect (DVD's 40:33)`, () => {
    const output = join(OUT, `${fixture}.x4.mp4`);
    // (the pixel shape is the file's, whatever the model: the quickest x4 pack, one frame)
    const r = enhance(fixturePath(fixture), output, '--frames', '0:1', '--model', 'esrgan-slim-x4');
    expect(r.status, r.stderr).toBe(0);
    const probe = execFileSync(
      'ffprobe',
      [
        ...['-v', 'error', '-select_streams', 'v:0', '-of', 'csv=p=0'],
        ...['-show_entries', 'stream=width,height,sample_aspect_ratio,display_aspect_ratio'],
        output,
      ],
      { encoding: 'utf8' },
    );
    expect(probe.trim()).toBe('1408,960,40:33,16:9');
  });
}

test('a file that cannot be decoded past a frame keeps the frames before it, audio to there', () => {
  const input = fixturePath('corrupt-mid.mp4');
  const output = join(OUT, 'corrupt-mid.out.mp4');
  const r = enhance(input, output, '--model', 'none');
  // written, with an exit status a script can tell from a whole render
  expect(r.status, r.stderr).toBe(3);
  const m =
    /warning: The video could not be decoded from frame (\d+) .*The enhanced file ends there: it has (\d+) of 48 frames \((\d+\.\d+) s\)/.exec(
      r.stdout,
    );
  expect(m, r.stdout).not.toBeNull();
  const kept = Number(m![2]);
  // the frame named is the first one the file lacks
  expect(Number(m![1])).toBe(kept + 1);
  expect(kept).toBeGreaterThan(5);
  expect(kept).toBeLessThan(48);
  const out = videoFacts(output);
  expect(out.frames).toBe(kept);
  expect(out.hasAudio).toBe(true);
  // the audio stops with the last frame (within one AAC packet), not at the source's end
  const audioSeconds = Number(
    execFileSync('ffprobe', [
      '-v',
      'error',
      '-select_streams',
      'a',
      '-show_entries',
      'stream=duration',
      '-of',
      'csv=p=0',
      output,
    ])
      .toString()
      .trim(),
  );
  expect(audioSeconds).toBeLessThanOrEqual(Number(m![3]) + 1024 / 48000 + 1e-3);
  expect(audioSeconds).toBeGreaterThan(Number(m![3]) - 0.1);
});

test('a clip too large at 4x and 2x for the encoder is refused at once, with what would work', () => {
  const output = join(OUT, 'big.mp4');
  const r = enhance(fixturePath('big-4096x2160.mp4'), output);
  expect(r.status).toBe(1);
  expect(r.stderr.trim()).toBe(
    "RESOLUTION_TOO_LARGE: At 2x this 4096x2160 clip would be 8192x4320, more than this browser's " +
      'H.264 encoder takes: try --codec vp9 or --codec av1 (a .webm or .mkv file), or --model none.',
  );
  expect(existsSync(output)).toBe(false);
});

test('without --backend the command picks the backend as the app does', () => {
  const output = join(OUT, 'auto-backend.mp4');
  const r = enhance(fixturePath('h264-aac.mp4'), output, '--model', 'default', '--frames', '0:1');
  expect(r.status, r.stderr).toBe(0);
  const m = /Backend: (webgpu|wasm) \(auto; ([^)]*)\)/.exec(r.stdout);
  expect(m, r.stdout).not.toBeNull();
  // a software adapter (SwiftShader on the test machines) runs on wasm, a real GPU on WebGPU
  expect(m![1]).toBe(/software adapter|no WebGPU/.test(m![2]!) ? 'wasm' : 'webgpu');
  expect(r.stdout).toContain(`on ${m![1]})`);
  expect(videoFacts(output).frames).toBe(1);
});

test('bad options are refused with a sentence', () => {
  const r = enhance(fixturePath('h264-aac.mp4'), join(OUT, 'x.mp4'), '--scale', '3');
  expect(r.status).toBe(2);
  expect(r.stderr).toContain('--scale must be 2 or 4');
  const d = enhance(fixturePath('h264-aac.mp4'), join(OUT, 'x.mp4'), '--deinterlace', 'left');
  expect(d.status).toBe(2);
  expect(d.stderr).toContain('--deinterlace must be');
  // refused before any work, each in a sentence: what a typo would otherwise cost
  const clip = fixturePath('h264-aac.mp4');
  const refused: [string[], string][] = [
    [[clip, clip], 'The output is the input file'],
    [[clip, join(OUT, 'x.mp4'), '-s', '2'], 'Unknown option -s'],
    [[clip, join(OUT, 'x.mp4'), 'extra'], 'Unexpected argument "extra"'],
    [[clip, join(OUT, 'x.avi')], 'must end in .mp4, .m4v, .mov, .mkv or .webm'],
    [[clip, join(clip, 'x.mp4')], 'is a file, not a folder'],
    [[OUT, join(OUT, 'x.mp4')], 'is a folder: give a video file'],
    [[clip, join(OUT, 'x.mp4'), '--overwrite=yes'], '--overwrite takes no value'],
    [
      [clip, join(OUT, 'x.mp4'), '--model', 'esrgan-slim-x2', '--scale', '4'],
      '--scale 4 does not fit --model esrgan-slim-x2, which upscales by 2',
    ],
    [[clip, join(OUT, 'x.mp4'), '--model', 'none', '--scale', '2'], '--scale needs a model'],
  ];
  for (const [[input, output, ...flags], said] of refused) {
    const r = enhance(input!, output!, ...flags);
    expect(r.status, said).toBe(2);
    expect(r.stderr).toContain(said);
  }
  expect(readFileSync(clip).length).toBeGreaterThan(0); // the input is whole
  // an existing output (an earlier render) is kept unless --overwrite says otherwise
  const earlier = join(OUT, 'earlier.mp4');
  writeFileSync(earlier, 'an earlier render');
  const again = enhance(clip, earlier, '--model', 'none', '--frames', '0:2');
  expect(again.status).toBe(2);
  expect(again.stderr).toContain('already exists: give another name, or add --overwrite');
  expect(readFileSync(earlier, 'utf8')).toBe('an earlier render');
  const replaced = enhance(clip, earlier, '--model', 'none', '--frames', '0:2', '--overwrite');
  expect(replaced.status, replaced.stderr).toBe(0);
  expect(videoFacts(earlier).frames).toBe(2);
  // a file that is no video, with the default model: its code and sentence, no stack
  const junk = enhance(fixturePath('random.bin'), join(OUT, 'junk.mp4'));
  expect(junk.status).toBe(1);
  expect(junk.stderr.trim()).toMatch(/^UNSUPPORTED_CONTAINER: This is not a video file/);
  expect(junk.stderr).not.toContain(' at ');
});

test('the default x4 model beats bilinear on a degraded real photograph', () => {
  // wood, fabric and brick: texture where super-resolution matters (not sky)
  const photo = '/usr/share/backgrounds/Wine_by_Jakkub_Mede.jpg';
  test.skip(!existsSync(photo), 'needs Debian lomiri-wallpapers-16.04 (npm test installs it)');
  const hr = join(OUT, 'photo-hr.mp4');
  const lq = join(OUT, 'photo-lq.mp4');
  // 4 frames of a slow pan over the photograph, lossless, then the degraded x4-smaller input
  ffmpeg([
    '-loop',
    '1',
    '-i',
    photo,
    '-vf',
    "scale=1280:-2,crop=640:360:'400+t*60':'200+t*30',format=yuv420p",
    '-r',
    '12',
    '-frames:v',
    '4',
    '-c:v',
    'libx264',
    '-qp',
    '0',
    hr,
  ]);
  ffmpeg([
    '-i',
    hr,
    '-vf',
    'gblur=sigma=0.6,scale=160:90:flags=area',
    '-c:v',
    'libx264',
    '-crf',
    '20',
    lq,
  ]);
  const out = join(OUT, 'photo-x4.mp4');
  const r = enhance(lq, out, '--backend', 'wasm', '--model', 'default', '--scale', '4');
  expect(r.status, r.stderr).toBe(0);
  const facts = videoFacts(out);
  expect([facts.width, facts.height, facts.frames]).toEqual([640, 360, 4]);
  const size = { width: 640, height: 360 };
  const ours = psnr(out, hr);
  const bilinear = psnr(lq, hr, { ...size, flags: 'bilinear' });
  const vsBicubic = psnr(lq, out, { ...size, flags: 'bicubic' });
  test.info().annotations.push({
    type: 'psnr',
    description: `ours ${ours.toFixed(2)} dB, bilinear ${bilinear.toFixed(2)} dB, ours vs bicubic ${vsBicubic.toFixed(2)} dB`,
  });
  expect(ours).toBeGreaterThanOrEqual(bilinear);
  // the model really changed the picture: it is not a bicubic upscale
  expect(vsBicubic).toBeLessThan(45);
});

test('an enhanced BT.709 clip stays BT.709: tags and colours', () => {
  const input = fixturePath('h264-aac.mp4'); // testsrc2 colour bars, tagged BT.709
  const output = join(OUT, 'bt709-x2.mp4');
  const r = enhance(
    input,
    output,
    '--model',
    'esrgan-slim-x2',
    '--backend',
    'wasm',
    '--frames',
    '0:3',
  );
  expect(r.status, r.stderr).toBe(0);
  const probe = spawnSync('ffprobe', [
    '-v',
    'error',
    '-select_streams',
    'v',
    '-show_entries',
    'stream=color_space,color_primaries,color_transfer,color_range',
    '-of',
    'json',
    output,
  ]);
  const stream = (JSON.parse(probe.stdout.toString()) as { streams: Record<string, string>[] })
    .streams[0]!;
  expect(stream).toMatchObject({
    color_space: 'bt709',
    color_primaries: 'bt709',
    color_transfer: 'bt709',
    color_range: 'tv',
  });
  // the YCbCr planes agree with the source's once scaled back: converting with BT.601 (what the
  // encoder does with RGB frames) moved the saturated bars' luma and measured 25 dB here
  const filter =
    '[0:v]setpts=N/(25*TB),scale=320:180:flags=area[a];[1:v]setpts=N/(25*TB),trim=end_frame=3[b];[a][b]psnr';
  const cmp = spawnSync('ffmpeg', [
    '-hide_banner',
    '-i',
    output,
    '-i',
    input,
    '-lavfi',
    filter,
    '-f',
    'null',
    '-',
  ]);
  const luma = /PSNR y:([0-9.]+)/.exec(cmp.stderr.toString());
  expect(luma, cmp.stderr.toString().slice(-300)).not.toBeNull();
  expect(Number(luma![1])).toBeGreaterThan(30);
});

test('a VP9 export at the default preset is as faithful as H.264 (constant quality)', () => {
  const input = fixturePath('h264-aac.mp4');
  const output = join(OUT, 'identity-vp9.mp4'); // VP9 in MP4: WebM cannot hold the AAC audio
  const r = enhance(input, output, '--model', 'none', '--codec', 'vp9');
  expect(r.status, r.stderr).toBe(0);
  expect(videoFacts(output).codec).toBe('vp9');
  // with a bitrate, libvpx's rate control starved this 2-second clip: 34.7 dB
  expect(psnr(output, input)).toBeGreaterThan(38);
});
