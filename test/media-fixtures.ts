/**
 * Media fixtures for src/media tests, made with ffmpeg at test time into .cache/fixtures/ (never
 * committed). Each file is made only if missing, so a second run costs nothing.
 */
import { execFileSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  readFileSync,
  renameSync,
  statSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { join, resolve } from 'node:path';
import { mulberry32 } from '../src/shared/random.ts';

export const FIXTURE_DIR = resolve(import.meta.dirname, '..', '.cache', 'fixtures');

/** Facts about the fixtures the tests check against (they are what ffmpeg was asked to make). */
export const FIXTURE_FACTS = {
  fps: 24,
  seconds: 2,
  frames: 48,
  width: 320,
  height: 180,
  /** vfr.mp4 keeps frames 0..23, then every third frame: 24 + 8 frames. */
  vfrFrameIndices: [...Array.from({ length: 24 }, (_, i) => i), 24, 27, 30, 33, 36, 39, 42, 45],
  /** untagged-hd.webm (1280x720): every sample of every frame is this Y, U, V (lossless VP9). */
  flatYuv: [120, 90, 200],
} as const;

export type FixtureName =
  | 'h264-aac.mp4'
  | 'h264-aac.mkv'
  | 'vp9-opus.webm'
  | 'av1-opus.mp4'
  | 'odd-322x182.mp4'
  | 'rotated-90.mp4'
  | 'vfr-mp3.mp4'
  | 'hevc.mp4'
  | 'untagged-sd.mp4'
  | 'untagged-hd.webm'
  | 'audio-only.m4a'
  | 'pcm-s16.mov'
  | 'pcm-s24.mov'
  | 'pcm-96k.mov'
  | 'aac.mov'
  | 'prores.mov'
  | 'anamorphic.mp4'
  | 'anamorphic.mkv'
  | 'interlaced.mp4'
  | 'ac3.mkv'
  | 'eac3.mp4'
  | 'h264-aac.ts'
  | 'avchd.m2ts'
  | 'mpeg2.ts'
  | 'mpeg2-mp2.ts'
  | 'mpeg2-part.ts'
  | 'mpeg2-cut.ts'
  | 'dvb-ac3.ts'
  | 'hdv.m2t'
  | 'mpeg2-aac.ts'
  | 'lpcm.m2ts'
  | 'interlaced.m2ts'
  | 'interlaced-small.mp4'
  | 'interlaced-bff.mp4'
  | 'interlaced-bff.ts'
  | 'interlaced-bff.mkv'
  | 'fake-interlaced.mp4'
  | 'mixed-fields.ts'
  | 'truncated-header.mp4'
  | 'truncated-body.mp4'
  | 'truncated.webm'
  | 'clusters.webm'
  | 'truncated-clusters.webm'
  | 'damaged.webm'
  | 'live.webm'
  | 'unsized-clusters.webm'
  | 'corrupt-mid.mp4'
  | 'random.bin'
  | 'empty.mp4'
  | 'h264-10bit.mp4'
  | 'h264-444.mp4'
  | 'two-audio.mp4'
  | 'two-audio.mkv'
  | 'two-audio.ts'
  | 'commentary-ends.mp4'
  | 'commentary-late.mkv'
  | 'vp9-vorbis.webm'
  | 'mac-languages.mov'
  | 'odd-161x91.webm'
  | 'big-4096x2160.mp4'
  | 'truncated-frag.mp4'
  | 'subtitles.mp4'
  | 'subtitles.mkv'
  | 'subtitled.mkv'
  | 'subtitled.mp4'
  | 'mjpeg.mov'
  | 'mjpeg.mkv'
  | 'mjpeg.avi'
  | 'mjpeg-cut.avi'
  | 'xvid.avi'
  | 'dashcam.avi'
  | 'camera-u8.avi'
  | 'h264.avi'
  | 'h264-global.avi'
  | 'h264-bframes.avi'
  | 'mpeg2.mkv'
  | 'mpeg2.mov'
  | 'h264-mp2.mkv'
  | 'mpeg2.avi'
  | 'mpeg2-422.mov'
  | 'mpeg1.mp4'
  | 'mpeg2-mp2.mpg'
  | 'mpeg2-cut.mpg'
  | 'mpeg1-mp3.mpg'
  | 'dvd.vob'
  | 'interlaced-lpcm.vob'
  | 'vcd.dat';

function ffmpeg(args: string[]): void {
  execFileSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', ...args], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
}

function hasEncoder(name: string): boolean {
  const out = execFileSync('ffmpeg', ['-hide_banner', '-encoders'], { encoding: 'utf8' });
  return new RegExp(`\\s${name}\\s`).test(out);
}

const video = (size = '320x180'): string[] => [
  '-f',
  'lavfi',
  '-i',
  `testsrc2=size=${size}:rate=24`,
];
const audio = ['-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000'];
const twoSeconds = ['-t', '2'];
// BT.709 tagged in the stream and the container so colour tests have something to find.
const bt709 = ['-colorspace', 'bt709', '-color_primaries', 'bt709', '-color_trc', 'bt709'];
const x264 = ['-c:v', 'libx264', '-preset', 'veryfast', '-pix_fmt', 'yuv420p', ...bt709];

const vp9Opus = [
  '-c:v',
  'libvpx-vp9',
  '-deadline',
  'realtime',
  '-cpu-used',
  '8',
  '-b:v',
  '500k',
  '-c:a',
  'libopus',
];

type Maker = (out: string) => void;

const makers: Record<FixtureName, Maker> = {
  'h264-aac.mp4': (out) =>
    ffmpeg([...video(), ...audio, ...twoSeconds, ...x264, '-c:a', 'aac', '-b:a', '96k', out]),
  'h264-aac.mkv': (out) => ffmpeg(['-i', fixturePath('h264-aac.mp4'), '-c', 'copy', out]),
  'vp9-opus.webm': (out) => ffmpeg([...video(), ...audio, ...twoSeconds, ...vp9Opus, out]),
  // Vorbis, which WebM and MKV hold and players do not play from MP4
  'vp9-vorbis.webm': (out) =>
    ffmpeg([...video('64x36'), ...audio, '-t', '1', ...vp9Opus.slice(0, -1), 'libvorbis', out]),
  'av1-opus.mp4': (out) => {
    const av1 = hasEncoder('libsvtav1')
      ? ['-c:v', 'libsvtav1', '-preset', '12']
      : ['-c:v', 'libaom-av1', '-cpu-used', '8', '-row-mt', '1'];
    ffmpeg([...video(), ...audio, ...twoSeconds, ...av1, '-b:v', '300k', '-c:a', 'libopus', out]);
  },
  'odd-322x182.mp4': (out) => ffmpeg([...video('322x182'), ...twoSeconds, ...x264, out]),
  // what cameras, HDR phones and screen recorders make: formats the encoders do not take
  'h264-10bit.mp4': (out) =>
    ffmpeg([...video(), '-t', '1', ...x264, '-pix_fmt', 'yuv420p10le', out]),
  // a DCI 4K frame: at 2x, more than H.264 (level 5.2) takes
  'big-4096x2160.mp4': (out) => ffmpeg([...video('4096x2160'), '-frames:v', '1', ...x264, out]),
  'odd-161x91.webm': (out) =>
    ffmpeg([
      ...['-f', 'lavfi', '-i', 'testsrc=size=161x91:rate=24'],
      ...['-t', '0.5', ...vp9Opus.slice(0, 8), '-pix_fmt', 'yuv420p', out],
    ]),
  // a phone or editor's MP4 with a subtitle track and a timecode track (neither is copied)
  'subtitles.mp4': (out) => {
    const srt = `${out}.srt`;
    writeFileSync(srt, '1\n00:00:00,000 --> 00:00:00,900\nHello\n');
    ffmpeg([
      ...video(),
      ...['-i', srt, '-t', '1', ...x264, '-c:s', 'mov_text', '-timecode', '01:00:00:00', out],
    ]);
    unlinkSync(srt);
  },
  // a film's MKV: video, audio and subtitles in two languages (mediabunny lists no subtitles)
  'subtitles.mkv': (out) => {
    const srt = `${out}.srt`;
    writeFileSync(srt, '1\n00:00:00,000 --> 00:00:00,900\nHello\n');
    ffmpeg([
      ...video(),
      ...audio,
      ...['-i', srt, '-i', srt, '-map', '0', '-map', '1', '-map', '2', '-map', '3'],
      ...['-t', '1', ...x264, '-c:a', 'aac', '-c:s', 'srt', out],
    ]);
    unlinkSync(srt);
  },
  // a film's MKV whose subtitles are kept: an SRT track (tags, two rows, a position tag) and a
  // styled ASS track with a title, neither the default
  'subtitled.mkv': (out) => {
    const srt = `${out}.srt`;
    const ass = `${out}.ass`;
    writeFileSync(
      srt,
      '1\n00:00:00,200 --> 00:00:00,900\nHello <i>there</i>\n\n' +
        '2\n00:00:01,000 --> 00:00:01,800\nSecond & line\nwith two rows\n\n' +
        '3\n00:00:02,500 --> 00:00:03,500\n{\\an8}Third\n',
    );
    writeFileSync(
      ass,
      '[Script Info]\nScriptType: v4.00+\n\n[V4+ Styles]\n' +
        'Format: Name, Fontname, Fontsize, PrimaryColour, Bold, Alignment\n' +
        'Style: Default,Arial,20,&H00FFFFFF,0,2\n\n[Events]\n' +
        'Format: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text\n' +
        'Dialogue: 0,0:00:00.50,0:00:01.50,Default,,0,0,0,,{\\b1}Bonjour{\\b0}\\Nle monde\n' +
        'Dialogue: 0,0:00:02.00,0:00:03.00,Default,,0,0,0,,Au revoir, ami\n',
    );
    ffmpeg([
      ...video('64x36'),
      ...audio,
      ...['-i', srt, '-i', ass, '-map', '0', '-map', '1', '-map', '2', '-map', '3'],
      ...['-t', '4', ...x264, '-c:a', 'aac', '-c:s:0', 'srt', '-c:s:1', 'ass'],
      ...['-metadata:s:s:0', 'language=eng', '-metadata:s:s:1', 'language=fra'],
      ...['-metadata:s:s:1', 'title=Français', '-disposition:s:0', '0', out],
    ]);
    unlinkSync(srt);
    unlinkSync(ass);
  },
  // the same as HandBrake and ffmpeg make it in MP4: timed text (tx3g), styles in boxes
  'subtitled.mp4': (out) =>
    ffmpeg([
      ...['-i', fixturePath('subtitled.mkv'), '-map', '0', '-c:v', 'copy', '-c:a', 'copy'],
      ...['-c:s', 'mov_text', '-disposition:s:1', 'default', out],
    ]),
  // a second language as the default track (the first, a commentary, is disabled), as a
  // film's file has it
  'two-audio.mp4': (out) =>
    ffmpeg([
      ...video(),
      ...['-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000'],
      ...['-f', 'lavfi', '-i', 'sine=frequency=880:sample_rate=48000'],
      ...['-map', '0', '-map', '1', '-map', '2', '-t', '1', ...x264, '-c:a', 'aac'],
      ...['-metadata:s:a:0', 'language=eng', '-metadata:s:a:0', 'title=Commentary'],
      ...['-metadata:s:a:1', 'language=fra'],
      ...['-disposition:a:0', '0', '-disposition:a:1', 'default', out],
    ]),
  // the same as a TV recording: the languages are in the program table (ISO 639 descriptors)
  'two-audio.ts': (out) =>
    ffmpeg([
      ...['-i', fixturePath('two-audio.mp4'), '-map', '0', '-c', 'copy'],
      ...['-metadata:s:a:0', 'language=eng', '-metadata:s:a:1', 'language=fra', out],
    ]),
  // the same in Matroska (Debian's ffmpeg does not read an MP4 track's title: it is set again)
  'two-audio.mkv': (out) =>
    ffmpeg([
      ...['-i', fixturePath('two-audio.mp4'), '-map', '0', '-c', 'copy'],
      ...['-metadata:s:a:0', 'title=Commentary', out],
    ]),
  // 2 s of video with a full-length track and a commentary that stops after half a second
  'commentary-ends.mp4': (out) =>
    ffmpeg([
      ...video('64x36'),
      ...['-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000'],
      ...['-f', 'lavfi', '-t', '0.5', '-i', 'sine=frequency=880:sample_rate=48000'],
      ...['-map', '0', '-map', '1', '-map', '2', '-t', '2', ...x264, '-c:a', 'aac', out],
    ]),
  // 2 s of video with a full-length track and a commentary that starts 1.5 s in
  'commentary-late.mkv': (out) =>
    ffmpeg([
      ...video('64x36'),
      ...['-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000'],
      ...[
        '-itsoffset',
        '1.5',
        '-f',
        'lavfi',
        '-t',
        '0.5',
        '-i',
        'sine=frequency=880:sample_rate=48000',
      ],
      ...['-map', '0', '-map', '1', '-map', '2', '-t', '2', ...x264, '-c:a', 'aac', out],
    ]),
  // an older digital camera's clip: Motion JPEG (4:2:2, as cameras write it) with PCM sound
  'mjpeg.mov': (out) =>
    ffmpeg([
      ...video(),
      ...audio,
      ...['-t', '1', '-c:v', 'mjpeg', '-q:v', '2', '-pix_fmt', 'yuvj422p'],
      ...['-ac', '1', '-c:a', 'pcm_s16le', out],
    ]),
  // a webcam's recording in Matroska (CodecID V_MJPEG, which mediabunny does not name), with the
  // standard Huffman tables a webcam uses (jpeg-decoder.browser.test.ts takes them out)
  'mjpeg.mkv': (out) =>
    ffmpeg([...video(), '-t', '1', '-c:v', 'mjpeg', '-q:v', '2', '-huffman', 'default', out]),
  // MPEG-2 in QuickTime (sample entry 'm2v1', as editors and HDV/XDCAM cameras write it) with
  // PCM, and MPEG-1 in MP4 ('mp4v' whose object type says MPEG-1 video) with AAC
  'mpeg2.mov': (out) =>
    ffmpeg([
      ...[...video(), ...audio, '-t', '1', '-c:v', 'mpeg2video', '-bf', '2', '-g', '12'],
      ...['-q:v', '3', '-c:a', 'pcm_s16le', out],
    ]),
  // MPEG-2 with B-frames in AVI (a capture card's, or ffmpeg's 'mpg2'), which keeps no display
  // order: each picture's place comes from its temporal reference
  'mpeg2.avi': (out) =>
    ffmpeg([
      ...[...video(), ...audio, '-t', '1', '-c:v', 'mpeg2video', '-bf', '2', '-g', '12'],
      ...['-q:v', '3', '-c:a', 'pcm_s16le', out],
    ]),
  // a PAL DVD rip in Matroska with its MP2 sound (A_MPEG/L2), kept into MP4 as MPEG-1 audio
  'h264-mp2.mkv': (out) =>
    ffmpeg([...video(), ...audio, '-t', '1', ...x264, '-ac', '2', '-c:a', 'mp2', out]),
  // XDCAM HD422 and IMX are 4:2:2 MPEG-2, which Upframe's decoder does not read
  'mpeg2-422.mov': (out) =>
    ffmpeg([...video(), '-t', '0.3', '-c:v', 'mpeg2video', '-pix_fmt', 'yuv422p', out]),
  'mpeg1.mp4': (out) =>
    ffmpeg([
      ...video(),
      ...audio,
      '-t',
      '1',
      '-c:v',
      'mpeg1video',
      '-q:v',
      '3',
      '-c:a',
      'aac',
      out,
    ]),
  // a DVD rip remuxed to Matroska: MPEG-2 with B-frames (180 lines: coded as 192) and AC-3
  'mpeg2.mkv': (out) =>
    ffmpeg([
      ...[...video(), ...audio, '-t', '1', '-c:v', 'mpeg2video', '-bf', '2', '-g', '12'],
      ...['-q:v', '3', '-ac', '2', '-c:a', 'ac3', out],
    ]),
  // a camera's or dashcam's AVI: Motion JPEG with 16-bit PCM sound (OpenDML index and idx1)
  'mjpeg.avi': (out) =>
    ffmpeg([
      ...video(),
      ...audio,
      ...['-t', '1', '-c:v', 'mjpeg', '-q:v', '2', '-ac', '2', '-c:a', 'pcm_s16le', out],
    ]),
  // the same recording stopped by a power cut: no index (idx1 comes last), a chunk cut in half
  'mjpeg-cut.avi': (out) => {
    const whole = readFileSync(fixturePath('mjpeg.avi'));
    writeFileSync(out, whole.subarray(0, Math.floor(whole.length * 0.6)));
  },
  // a dashcam's AVI: Motion JPEG with IMA ADPCM sound (stereo here, so the channels interleave)
  'dashcam.avi': (out) =>
    ffmpeg([
      ...video('64x36'),
      ...['-f', 'lavfi', '-i', 'sine=frequency=300:sample_rate=16000'],
      ...['-t', '1', '-c:v', 'mjpeg', '-ac', '2', '-c:a', 'adpcm_ima_wav', out],
    ]),
  // an older camera's AVI: Motion JPEG with unsigned 8-bit mono PCM at 11 025 Hz
  'camera-u8.avi': (out) =>
    ffmpeg([
      ...video('64x36'),
      ...['-f', 'lavfi', '-i', 'sine=frequency=300:sample_rate=11025'],
      ...['-t', '1', '-c:v', 'mjpeg', '-c:a', 'pcm_u8', out],
    ]),
  // a dashcam's H.264 in AVI: no B-frames, a key frame every 12, PCM sound
  'h264.avi': (out) =>
    ffmpeg([
      ...video(),
      ...audio,
      ...['-t', '1', ...x264, '-bf', '0', '-g', '12', '-ac', '1', '-c:a', 'pcm_s16le', out],
    ]),
  // the same with its parameter sets only in the stream format (ffmpeg's global header), and
  // access unit delimiters (x264 then puts its SEI ahead of the first one)
  'h264-global.avi': (out) =>
    ffmpeg([
      ...video(),
      ...['-t', '1', ...x264, '-bf', '0', '-g', '12', '-flags', '+global_header'],
      ...['-x264-params', 'aud=1', out],
    ]),
  // H.264 with B-frames in AVI, as ffmpeg writes it from x264's defaults: stored in decode order
  'h264-bframes.avi': (out) =>
    ffmpeg([...video(), ...audio, ...['-t', '1', ...x264, '-ac', '1', '-c:a', 'pcm_s16le', out]]),
  // MPEG program streams: an .mpg as ffmpeg writes it (MPEG-1 packs, MPEG-2 video with two
  // B-frames and a GOP of 12, MP2 sound, which is left out), the same cut inside a picture
  'mpeg2-mp2.mpg': (out) =>
    ffmpeg([
      ...[...video('352x288'), ...audio, ...twoSeconds, '-c:v', 'mpeg2video', '-bf', '2'],
      ...['-g', '12', '-c:a', 'mp2', '-f', 'mpeg', out],
    ]),
  // (1000 bytes past 60 %: inside a 2048-byte pack, as a power cut leaves a camcorder's file)
  'mpeg2-cut.mpg': (out) => {
    const whole = readFileSync(fixturePath('mpeg2-mp2.mpg'));
    writeFileSync(out, whole.subarray(0, Math.floor(whole.length * 0.6) + 1000));
  },
  // MPEG-1 video with MP3 sound (mono), as old encoders wrote .mpg files
  'mpeg1-mp3.mpg': (out) =>
    ffmpeg([
      ...[...video('352x288'), ...audio, '-t', '1', '-c:v', 'mpeg1video'],
      ...['-c:a', 'libmp3lame', '-b:a', '64k', '-f', 'mpeg', out],
    ]),
  // a DVD's VOB: PAL 720x576 shown at 4:3 (pixels 16:15), navigation packets, two AC-3 tracks
  // (a film's two languages, substreams 0x80 and 0x81)
  'dvd.vob': (out) =>
    ffmpeg([
      ...['-f', 'lavfi', '-i', 'testsrc2=size=720x576:rate=25', ...audio],
      ...['-f', 'lavfi', '-i', 'sine=frequency=660:sample_rate=48000', '-t', '1'],
      ...['-map', '0:v', '-map', '1:a', '-map', '2:a', '-target', 'pal-dvd', '-b:v', '800k'],
      ...['-aspect', '4:3', '-ac', '2', '-b:a', '192k', out],
    ]),
  // interlaced MPEG-2 (frame pictures with field DCT, top field first) with DVD LPCM sound
  'interlaced-lpcm.vob': (out) =>
    ffmpeg([
      ...['-f', 'lavfi', '-i', 'testsrc2=size=720x576:rate=25', ...audio, '-t', '0.6'],
      ...['-c:v', 'mpeg2video', '-flags', '+ilme+ildct', '-top', '1', '-b:v', '2M'],
      ...['-c:a', 'pcm_dvd', '-ac', '2', '-f', 'dvd', out],
    ]),
  // a VCD's AVSEQ01.DAT: a RIFF CDXA header, then CD-ROM XA sectors of 2352 bytes, each one
  // 2324-byte pack between its sync, header and subheader and its error code
  'vcd.dat': (out) => {
    const mpg = `${out}.mpg`;
    ffmpeg([...video('352x288'), ...audio, '-t', '1', '-target', 'pal-vcd', mpg]);
    const packs = readFileSync(mpg);
    unlinkSync(mpg);
    const sectors: Buffer[] = [];
    for (let at = 0, n = 0; at < packs.length; at += 2324, n++) {
      const sector = Buffer.alloc(2352);
      sector.fill(0xff, 1, 11);
      const bcd = (v: number): number => ((v / 10) << 4) | (v % 10);
      const lba = n + 150;
      sector.set(
        [bcd(Math.floor(lba / 4500)), bcd(Math.floor(lba / 75) % 60), bcd(lba % 75), 2],
        12,
      );
      sector.set([1, 1, 0x62, 0x0f, 1, 1, 0x62, 0x0f], 16);
      packs.copy(sector, 24, at, Math.min(at + 2324, packs.length));
      sectors.push(sector);
    }
    const data = Buffer.concat(sectors);
    const head = Buffer.alloc(44);
    head.write('RIFF', 0, 'latin1');
    head.writeUInt32LE(36 + data.length, 4);
    head.write('CDXAfmt ', 8, 'latin1');
    head.writeUInt32LE(16, 16);
    head.write('data', 36, 'latin1');
    head.writeUInt32LE(data.length, 40);
    writeFileSync(out, Buffer.concat([head, data]));
  },
  // an Xvid film, which no browser decodes
  'xvid.avi': (out) => ffmpeg([...video(), '-t', '0.5', '-c:v', 'mpeg4', '-vtag', 'XVID', out]),
  'h264-444.mp4': (out) =>
    ffmpeg([...video(), ...audio, '-t', '1', ...x264, '-pix_fmt', 'yuv444p', out]),
  // ffmpeg 5.1 has no -display_rotation; the rotate tag writes the tkhd matrix.
  'rotated-90.mp4': (out) =>
    ffmpeg(['-i', fixturePath('h264-aac.mp4'), '-c', 'copy', '-metadata:s:v', 'rotate=90', out]),
  'vfr-mp3.mp4': (out) =>
    ffmpeg([
      ...video(),
      ...audio,
      ...twoSeconds,
      '-vf',
      "select='lt(n\\,24)+not(mod(n\\,3))'",
      '-fps_mode',
      'passthrough',
      ...x264,
      '-c:a',
      'libmp3lame',
      out,
    ]),
  'hevc.mp4': (out) =>
    ffmpeg([
      ...video(),
      ...twoSeconds,
      '-c:v',
      'libx265',
      '-preset',
      'ultrafast',
      '-x265-params',
      'log-level=error',
      '-tag:v',
      'hvc1',
      out,
    ]),
  // No colour tags in the SPS or the container, as many camera and DVD-era files come.
  'untagged-sd.mp4': (out) =>
    ffmpeg([
      ...video(),
      ...twoSeconds,
      ...['-c:v', 'libx264', '-preset', 'veryfast', '-pix_fmt', 'yuv420p'],
      out,
    ]),
  // One flat colour at HD, written as raw Y'CbCr samples and kept exactly (lossless VP9, no colour
  // tags in the stream or the container): what RGB it decodes to depends only on the matrix.
  'untagged-hd.webm': (out) => {
    const { flatYuv } = FIXTURE_FACTS;
    const [width, height] = [1280, 720];
    const [y, u, v] = flatYuv;
    const frame = new Uint8Array(width * height * 1.5);
    frame.fill(y, 0, width * height);
    frame.fill(u, width * height, width * height * 1.25);
    frame.fill(v, width * height * 1.25);
    const raw = `${out}.yuv`;
    writeFileSync(raw, Buffer.concat([frame, frame]));
    ffmpeg([
      ...['-f', 'rawvideo', '-pix_fmt', 'yuv420p', '-s', `${width}x${height}`, '-r', '24'],
      ...['-i', raw, '-c:v', 'libvpx-vp9', '-lossless', '1', '-deadline', 'realtime'],
      ...['-cpu-used', '8', '-f', 'webm', out],
    ]);
    unlinkSync(raw);
  },
  'audio-only.m4a': (out) => ffmpeg([...audio, ...twoSeconds, '-c:a', 'aac', out]),
  // MOV as cameras and editors write it: uncompressed PCM, one table entry per audio frame.
  // 16-bit stereo ('sowt', sound description version 0)
  'pcm-s16.mov': (out) =>
    ffmpeg([...video(), ...audio, ...twoSeconds, ...x264, '-ac', '2', '-c:a', 'pcm_s16le', out]),
  // a camera's or an editor's MOV with two PCM tracks, English and French: ffmpeg's MOV mode
  // writes their languages as Macintosh codes (0 and 1), not as packed ISO letters
  'mac-languages.mov': (out) =>
    ffmpeg([
      ...video('64x36'),
      ...['-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000'],
      ...['-f', 'lavfi', '-i', 'sine=frequency=880:sample_rate=48000'],
      ...['-map', '0', '-map', '1', '-map', '2', '-t', '1', ...x264, '-c:a', 'pcm_s16le'],
      ...['-metadata:s:a:0', 'language=eng', '-metadata:s:a:1', 'language=fra', out],
    ]),
  // 24-bit little-endian ('in24' with an 'enda' box in 'wave', version 1)
  'pcm-s24.mov': (out) =>
    ffmpeg([...video(), ...audio, ...twoSeconds, ...x264, '-c:a', 'pcm_s24le', out]),
  // 96 kHz 24-bit ('lpcm', version 2: the rate does not fit the 16.16 field)
  'pcm-96k.mov': (out) =>
    ffmpeg([
      ...video(),
      ...['-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=96000'],
      ...twoSeconds,
      ...x264,
      ...['-c:a', 'pcm_s24le', out],
    ]),
  // ffmpeg's MOV writes AAC in a version 1 sound description, its esds inside a 'wave' box
  'aac.mov': (out) =>
    ffmpeg([...video(), ...audio, ...twoSeconds, ...x264, '-c:a', 'aac', '-f', 'mov', out]),
  // NTSC DVD widescreen's shape: 352x240 pixels of 40:33, shown at 16:9 (pasp and SPS VUI)
  'anamorphic.mp4': (out) =>
    ffmpeg([...video('352x240'), ...twoSeconds, '-vf', 'setsar=40/33', ...x264, out]),
  // the same in Matroska, which stores the shown size rounded to whole pixels (427x240)
  'anamorphic.mkv': (out) => ffmpeg(['-i', fixturePath('anamorphic.mp4'), '-c', 'copy', out]),
  // interlaced H.264 (field-coded macroblock pairs, top field first), as camcorders record
  'interlaced.mp4': (out) =>
    ffmpeg([
      ...video(),
      ...twoSeconds,
      ...x264,
      '-flags',
      '+ilme+ildct',
      '-x264opts',
      'tff=1',
      out,
    ]),
  // Dolby audio as TV recordings and disc rips carry it: AC-3 stereo in MKV, E-AC-3 5.1 in MP4
  'ac3.mkv': (out) =>
    ffmpeg([...video(), ...audio, ...twoSeconds, ...x264, '-ac', '2', '-c:a', 'ac3', out]),
  'eac3.mp4': (out) =>
    ffmpeg([...video(), ...audio, ...twoSeconds, ...x264, '-ac', '6', '-c:a', 'eac3', out]),
  // transport streams: a TV recording (188-byte packets, H.264 + AAC in ADTS, its clock starting
  // at 1000 s as a channel's does; a key frame a second), an AVCHD camcorder's (192-byte packets with time codes, H.264
  // + AC-3), SD television (MPEG-2 video, which mediabunny leaves out) and Blu-ray LPCM audio
  // (which mediabunny does not read)
  'h264-aac.ts': (out) =>
    ffmpeg([
      ...[...video(), ...audio, ...twoSeconds, ...x264, '-c:a', 'aac', '-b:a', '96k'],
      ...['-g', '24', '-output_ts_offset', '1000', out],
    ]),
  'avchd.m2ts': (out) =>
    ffmpeg([
      ...[...video(), ...audio, ...twoSeconds, ...x264, '-ac', '2', '-c:a', 'ac3'],
      ...['-mpegts_m2ts_mode', '1', out],
    ]),
  'mpeg2.ts': (out) =>
    ffmpeg([...video(), ...audio, ...['-t', '0.5', '-c:v', 'mpeg2video', '-c:a', 'mp2', out]]),
  // MPEG-2 video in transport streams, read by Upframe's own scan (mpeg-ts-input.ts): a
  // recording with B-pictures and MP2 sound; the same from a third of the way in (a copied part
  // of a recording, starting inside a GOP) and cut short at two thirds (inside a picture)
  'mpeg2-mp2.ts': (out) =>
    ffmpeg([
      ...[...video(), ...audio, '-t', '1.5', '-c:v', 'mpeg2video', '-bf', '2', '-g', '12'],
      ...['-c:a', 'mp2', '-f', 'mpegts', out],
    ]),
  'mpeg2-part.ts': (out) => {
    const bytes = readFileSync(fixturePath('mpeg2-mp2.ts'));
    writeFileSync(out, bytes.subarray(188 * Math.floor(bytes.length / 188 / 3)));
  },
  'mpeg2-cut.ts': (out) => {
    const bytes = readFileSync(fixturePath('mpeg2-mp2.ts'));
    writeFileSync(out, bytes.subarray(0, 188 * Math.floor((bytes.length / 188) * (2 / 3)) + 100));
  },
  // DVB SD television: 720x576 interlaced (top field first) at 16:9, two AC-3 tracks in private
  // streams with DVB's AC-3 descriptor (system B), English and German
  'dvb-ac3.ts': (out) =>
    ffmpeg([
      ...['-f', 'lavfi', '-i', 'testsrc2=size=720x576:rate=50'],
      ...['-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000'],
      ...['-f', 'lavfi', '-i', 'sine=frequency=660:sample_rate=48000'],
      ...['-map', '0', '-map', '1', '-map', '2', '-t', '1'],
      ...['-vf', 'tinterlace=interleave_top,setfield=tff', '-c:v', 'mpeg2video'],
      ...['-flags', '+ilme+ildct', '-bf', '2', '-aspect', '16:9', '-c:a', 'ac3', '-ac', '2'],
      ...['-metadata:s:a:0', 'language=eng', '-metadata:s:a:1', 'language=deu'],
      ...['-mpegts_flags', 'system_b', '-f', 'mpegts', out],
    ]),
  // HDV's picture (1440x1080 interlaced, pixels 4:3) in 192-byte M2TS packets with AC-3 (ffmpeg's
  // M2TS mode writes MP2 as a private stream with no descriptor, which no camcorder does)
  'hdv.m2t': (out) =>
    ffmpeg([
      ...['-f', 'lavfi', '-i', 'testsrc2=size=1440x1080:rate=50', ...audio, '-t', '0.6'],
      ...['-vf', 'tinterlace=interleave_top,setfield=tff', '-c:v', 'mpeg2video', '-b:v', '6M'],
      ...['-flags', '+ilme+ildct', '-bf', '2', '-g', '6', '-aspect', '16:9'],
      ...['-c:a', 'ac3', '-ac', '2', '-mpegts_m2ts_mode', '1', '-f', 'mpegts', out],
    ]),
  // MPEG-2 with AAC in ADTS frames, as some DVB-T2 and IPTV recordings are
  'mpeg2-aac.ts': (out) =>
    ffmpeg([
      ...[...video(), ...audio, '-t', '0.5', '-c:v', 'mpeg2video', '-c:a', 'aac'],
      ...['-b:a', '96k', '-f', 'mpegts', out],
    ]),
  'lpcm.m2ts': (out) =>
    ffmpeg([
      ...[...video(), ...audio, ...['-t', '0.5'], ...x264, '-c:a', 'pcm_bluray'],
      ...['-mpegts_m2ts_mode', '1', out],
    ]),
  // an AVCHD camcorder's 1080i: 1440x1080 (coded 1088, cropped) at pixels 4:3, field coded, each
  // frame two fields 1/50 s apart (50p woven into 25i, top field first)
  'interlaced.m2ts': (out) =>
    ffmpeg([
      ...['-f', 'lavfi', '-i', 'testsrc2=size=1440x1080:rate=50', ...audio, '-t', '0.6'],
      ...['-vf', 'setsar=4/3,tinterlace=interleave_top,setfield=tff', ...x264],
      ...['-flags', '+ilme+ildct', '-x264opts', 'tff=1', '-ac', '2', '-c:a', 'ac3'],
      ...['-mpegts_m2ts_mode', '1', out],
    ]),
  // the same kind of picture small enough for a model on the CPU: 160x96, 8 frames
  'interlaced-small.mp4': (out) =>
    ffmpeg([
      ...['-f', 'lavfi', '-i', 'testsrc2=size=160x96:rate=50', '-t', '0.32'],
      ...['-vf', 'tinterlace=interleave_top,setfield=tff', ...x264],
      ...['-flags', '+ilme+ildct', '-x264opts', 'tff=1', out],
    ]),
  // bottom field first (as DV-era SD video is): testsrc2 at 50p woven the other way round, the
  // bottom field holding the earlier moment (8 frames); the same stream in TS and MKV
  'interlaced-bff.mp4': (out) =>
    ffmpeg([
      ...['-f', 'lavfi', '-i', 'testsrc2=size=480x272:rate=50', '-t', '0.32'],
      ...['-vf', 'tinterlace=interleave_bottom,setfield=bff', ...x264],
      ...['-flags', '+ilme+ildct', '-x264opts', 'bff=1', out],
    ]),
  'interlaced-bff.ts': (out) =>
    ffmpeg(['-i', fixturePath('interlaced-bff.mp4'), '-c', 'copy', out]),
  'interlaced-bff.mkv': (out) =>
    ffmpeg(['-i', fixturePath('interlaced-bff.mp4'), '-c', 'copy', out]),
  // progressive frames in a stream that allows fields (x264's --fake-interlaced, as Blu-ray
  // stores 1080p25): each picture says it is a frame (160x96, 8 frames)
  'fake-interlaced.mp4': (out) =>
    ffmpeg([
      ...['-f', 'lavfi', '-i', 'testsrc2=size=160x96:rate=25', '-t', '0.32', ...x264],
      ...['-x264-params', 'fake-interlaced=1', out],
    ]),
  // a broadcast that switches from video to film: 8 interlaced frames (top field first), then 8
  // progressive ones in a stream that still allows fields; two transport streams one after the
  // other, as a recording across a programme change is
  'mixed-fields.ts': (out) => {
    const parts = [`${out}.a.ts`, `${out}.b.ts`];
    ffmpeg([
      ...['-f', 'lavfi', '-i', 'testsrc2=size=160x96:rate=50', '-t', '0.32'],
      ...['-vf', 'tinterlace=interleave_top,setfield=tff', ...x264],
      ...['-flags', '+ilme+ildct', '-x264opts', 'tff=1', parts[0]!],
    ]);
    ffmpeg([
      ...['-f', 'lavfi', '-i', 'testsrc2=size=160x96:rate=25', '-ss', '0.32', '-t', '0.32'],
      ...[...x264, '-x264-params', 'fake-interlaced=1', '-output_ts_offset', '0.4', parts[1]!],
    ]);
    writeFileSync(out, Buffer.concat(parts.map((p) => readFileSync(p))));
    for (const p of parts) unlinkSync(p);
  },
  'prores.mov': (out) =>
    ffmpeg([...video(), ...['-t', '0.25'], '-c:v', 'prores', '-profile:v', '2', out]),
  // moov at the end (ffmpeg's default) and the tail cut off: the index is gone.
  'truncated-header.mp4': (out) => writeFileSync(out, cutFile(fixturePath('h264-aac.mp4'), 0.6)),
  // moov first, media data cut at 60%: the index promises frames the file no longer holds.
  'truncated-body.mp4': (out) => {
    const full = `${out}.full.mp4`;
    ffmpeg([...video(), ...twoSeconds, ...x264, '-movflags', '+faststart', full]);
    writeFileSync(out, cutFile(full, 0.6));
    unlinkSync(full);
  },
  // a fragmented MP4 (as recorders write, so a crash keeps what was written) cut at 60 %: the
  // index of its last fragment lists samples whose bytes are missing
  'truncated-frag.mp4': (out) => {
    const full = `${out}.full.mp4`;
    ffmpeg([
      ...video(),
      ...audio,
      ...twoSeconds,
      ...x264,
      ...['-g', '12', '-c:a', 'aac', '-movflags', 'frag_keyframe+empty_moov', full],
    ]);
    writeFileSync(out, cutFile(full, 0.6));
    unlinkSync(full);
  },
  // a WebM cut at 60 % inside its one cluster: ffmpeg reads 25 of its 48 video packets, and so
  // does Upframe (mediabunny alone reads none)
  'truncated.webm': (out) => writeFileSync(out, cutFile(fixturePath('vp9-opus.webm'), 0.6)),
  // a WebM in clusters of a quarter second (a key frame every 6 frames), as longer files are in
  // clusters of a few seconds; cut at 60 % it holds its first complete clusters
  'clusters.webm': (out) =>
    ffmpeg([
      ...video(),
      ...audio,
      ...twoSeconds,
      ...vp9Opus,
      '-g',
      '6',
      '-cluster_time_limit',
      '250',
      out,
    ]),
  'truncated-clusters.webm': (out) =>
    writeFileSync(out, cutFile(fixturePath('clusters.webm'), 0.6)),
  // as a live stream writes it: the segment's size is unknown (no duration), clusters of 1 s
  'live.webm': (out) =>
    ffmpeg(['-i', fixturePath('vp9-opus.webm'), '-c', 'copy', '-live', '1', '-f', 'webm', out]),
  // clusters.webm laid out as MediaRecorder writes a recording: the segment and every cluster of
  // unknown size (8-byte all-ones), no seek head and no cues; Info keeps its duration
  'unsized-clusters.webm': (out) => {
    const bytes = Uint8Array.from(readFileSync(fixturePath('clusters.webm')));
    const vint = (at: number): { length: number; value: number } => {
      let length = 1;
      while (!(bytes[at]! & (0x80 >> (length - 1)))) length++;
      let value = bytes[at]! & (0xff >> length);
      for (let i = 1; i < length; i++) value = value * 256 + bytes[at + i]!;
      return { length, value };
    };
    const UNKNOWN = [0x01, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff];
    const header = vint(4);
    let at = 4 + header.length + header.value; // the Segment
    const parts: Uint8Array[] = [bytes.subarray(0, at + 4), Uint8Array.from(UNKNOWN)];
    at += 4 + vint(at + 4).length;
    while (at < bytes.length) {
      const idLength = vint(at).length;
      const id = bytes.subarray(at, at + idLength).join();
      const size = vint(at + idLength);
      const dataAt = at + idLength + size.length;
      if (id === '31,67,182,117') {
        parts.push(bytes.subarray(at, at + idLength), Uint8Array.from(UNKNOWN));
        parts.push(bytes.subarray(dataAt, dataAt + size.value));
      } else if (!['17,77,155,116', '236', '28,83,187,107'].includes(id)) {
        parts.push(bytes.subarray(at, dataAt + size.value)); // not SeekHead, Void or Cues
      }
      at = dataAt + size.value;
    }
    writeFileSync(out, Buffer.concat(parts));
  },
  // truncated.webm with its Cluster ID zeroed: the reader finds no element where the cluster was
  // and searches the rest of the file for one (unmended, mediabunny 1.61 spun there for good)
  'damaged.webm': (out) => {
    const bytes = Uint8Array.from(readFileSync(fixturePath('truncated.webm')));
    const at = bytes.findIndex(
      (b, i) =>
        b === 0x1f && bytes[i + 1] === 0x43 && bytes[i + 2] === 0xb6 && bytes[i + 3] === 0x75,
    );
    if (at < 0) throw new Error('truncated.webm has no Cluster');
    bytes.fill(0, at, at + 4);
    writeFileSync(out, bytes);
  },
  // 600 random bytes over the media data at the middle of the file (moov is at the end):
  // Chromium's H.264 decoder fails there (packet 28 of 48 when made)
  'corrupt-mid.mp4': (out) => {
    const bytes = Uint8Array.from(readFileSync(fixturePath('h264-aac.mp4')));
    const rand = mulberry32(3);
    const mid = Math.floor(bytes.length / 2);
    for (let i = mid; i < mid + 600; i++) bytes[i] = Math.floor(rand() * 256);
    writeFileSync(out, bytes);
  },
  'random.bin': (out) => {
    const rand = mulberry32(7);
    writeFileSync(
      out,
      Uint8Array.from({ length: 4096 }, () => Math.floor(rand() * 256)),
    );
  },
  'empty.mp4': (out) => writeFileSync(out, new Uint8Array(0)),
};

function cutFile(path: string, fraction: number): Uint8Array {
  const bytes = readFileSync(path);
  return bytes.subarray(0, Math.floor(bytes.length * fraction));
}

export function fixturePath(name: FixtureName): string {
  return join(FIXTURE_DIR, name);
}

/** Makes every missing fixture (in dependency order); returns the directory. */
export function ensureMediaFixtures(): string {
  mkdirSync(FIXTURE_DIR, { recursive: true });
  for (const [name, make] of Object.entries(makers) as [FixtureName, Maker][]) {
    const out = fixturePath(name);
    if (existsSync(out)) continue;
    // Write under a temporary name so an interrupted run never leaves a half fixture behind.
    const tmp = join(FIXTURE_DIR, `tmp-${name}`);
    make(tmp);
    renameSync(tmp, out);
    if (name !== 'empty.mp4' && statSync(out).size === 0) throw new Error(`empty fixture ${name}`);
  }
  return FIXTURE_DIR;
}
