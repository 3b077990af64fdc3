/**
 * Picks a VideoEncoderConfig the browser accepts: codec string with a level that covers the frame
 * size and rate, probed over profiles and hardware/software. Facts: OpenH264 (Chromium's software
 * H.264) goes to level 5.2; a level too low is refused for large frames; `prefer-hardware` with no
 * hardware encoder fails late on Linux without falling back, so 'no-preference' is probed first.
 */
import { UpframeError } from '../shared/errors.ts';

export type VideoCodecChoice = 'avc' | 'vp9' | 'av1';

/** What a person calls each output codec. */
export const CODEC_NAMES: Readonly<Record<VideoCodecChoice, string>> = {
  avc: 'H.264',
  vp9: 'VP9',
  av1: 'AV1',
};
export type QualityChoice = 'low' | 'medium' | 'high' | { readonly bitrate: number };

/**
 * The size an encoder is given for frames of `size`: H.264 in 4:2:0 takes only even sizes, so an
 * odd width or height loses its last column or row (a screen recording can be 1080x2339); a side
 * of 1 pixel is kept as it is, and refused.
 */
export function encodableSize(
  codec: VideoCodecChoice,
  size: { readonly width: number; readonly height: number },
): { width: number; height: number } {
  if (codec !== 'avc') return { width: size.width, height: size.height };
  const even = (n: number): number => (n > 1 ? n - (n % 2) : n);
  return { width: even(size.width), height: even(size.height) };
}

/**
 * The warning for frames `encodableSize` cut, in the picture's terms as players show it: a clip
 * stored on its side (rotation 90 or 270) loses a stored column that shows as its last or first
 * row, and its sizes are given upright.
 */
export function cropNote(
  size: { readonly width: number; readonly height: number },
  crop: { readonly width: number; readonly height: number },
  rotation: number,
): string {
  const turn = ((Math.round(rotation / 90) % 4) + 4) % 4;
  // where the stored last column and last row show after the turn (clockwise)
  const column = ['last column', 'last row', 'first column', 'first row'][turn]!;
  const row = ['last row', 'first column', 'first row', 'last column'][turn]!;
  const lost = [
    crop.width !== size.width ? column : null,
    crop.height !== size.height ? row : null,
  ].filter((p) => p !== null);
  const shown = (s: { readonly width: number; readonly height: number }) =>
    turn % 2 === 1 ? `${s.height}x${s.width}` : `${s.width}x${s.height}`;
  return (
    `H.264 takes only even frame sizes: the ${lost.join(' and the ')} of pixels ` +
    `${lost.length > 1 ? 'were' : 'was'} left out (${shown(size)} becomes ${shown(crop)}); ` +
    'VP9 and AV1 keep every pixel.'
  );
}

/** Bits per pixel per frame for H.264; VP9 and AV1 reach the same quality with about 30% less. */
const BITS_PER_PIXEL: Record<'low' | 'medium' | 'high', number> = {
  low: 0.05,
  medium: 0.1,
  high: 0.2,
};

export function bitrateFor(
  quality: QualityChoice,
  codec: VideoCodecChoice,
  width: number,
  height: number,
  fps: number,
): number {
  if (typeof quality === 'object') {
    if (!(quality.bitrate > 0) || !Number.isFinite(quality.bitrate)) {
      throw new UpframeError(
        'INVALID_OPTION',
        `quality.bitrate must be a positive number of bits per second, got ${quality.bitrate}.`,
      );
    }
    return Math.round(quality.bitrate);
  }
  const bpp = BITS_PER_PIXEL[quality] * (codec === 'avc' ? 1 : 0.7);
  return Math.max(50_000, Math.round(bpp * width * height * Math.max(fps, 1)));
}

/** H.264 levels (Table A-1): max frame size in macroblocks, max macroblocks per second. */
const AVC_LEVELS: readonly [idc: number, maxFs: number, maxMbps: number][] = [
  [0x1e, 1620, 40500],
  [0x1f, 3600, 108000],
  [0x20, 5120, 216000],
  [0x28, 8192, 245760],
  [0x2a, 8704, 522240],
  [0x32, 22080, 589824],
  [0x33, 36864, 983040],
  [0x34, 36864, 2073600],
  [0x3c, 139264, 4177920],
  [0x3d, 139264, 8355840],
  [0x3e, 139264, 16711680],
];

export function avcLevel(width: number, height: number, fps: number): number | null {
  const mbW = Math.ceil(width / 16);
  const mbH = Math.ceil(height / 16);
  const fs = mbW * mbH;
  for (const [idc, maxFs, maxMbps] of AVC_LEVELS) {
    // A side may not exceed sqrt(8 * MaxFS) macroblocks (A.3.1), which rules out extreme strips.
    const side = Math.sqrt(8 * maxFs);
    if (fs <= maxFs && mbW <= side && mbH <= side && fs * fps <= maxMbps) return idc;
  }
  return null;
}

/** VP9 levels by luma picture size and sample rate (vp9 levels table). */
const VP9_LEVELS: readonly [level: number, maxPic: number, maxRate: number][] = [
  [10, 36864, 829440],
  [11, 73728, 2764800],
  [20, 122880, 4608000],
  [21, 245760, 9216000],
  [30, 552960, 20736000],
  [31, 983040, 36864000],
  [40, 2228224, 83558400],
  [41, 2228224, 160432128],
  [50, 8912896, 311951360],
  [51, 8912896, 588251136],
  [52, 8912896, 1176502272],
  [60, 35651584, 1176502272],
];

/** AV1 seq_level_idx by MaxPicSize and MaxDisplayRate (Annex A). */
const AV1_LEVELS: readonly [idx: number, maxPic: number, maxRate: number][] = [
  [0, 147456, 4423680],
  [1, 278784, 8363520],
  [4, 665856, 19975680],
  [5, 1065024, 31950720],
  [8, 2359296, 70778880],
  [9, 2359296, 141557760],
  [12, 8912896, 267386880],
  [13, 8912896, 534773760],
  [14, 8912896, 1069547520],
  [16, 35651584, 1069547520],
];

function pickLevel(
  table: readonly (readonly [number, number, number])[],
  width: number,
  height: number,
  fps: number,
): number | null {
  const pic = width * height;
  for (const [level, maxPic, maxRate] of table)
    if (pic <= maxPic && pic * fps <= maxRate) return level;
  return null;
}

/** Codec strings to try, best first. */
export function codecCandidates(
  codec: VideoCodecChoice,
  width: number,
  height: number,
  fps: number,
): string[] {
  const hex = (n: number): string => n.toString(16).padStart(2, '0');
  switch (codec) {
    case 'avc': {
      const level = avcLevel(width, height, fps);
      if (level === null) return [];
      // High, then Main, then Constrained Baseline (the profile every H.264 encoder has).
      return ['6400', '4d00', '42e0'].map((profile) => `avc1.${profile}${hex(level)}`);
    }
    case 'vp9': {
      const level = pickLevel(VP9_LEVELS, width, height, fps);
      return level === null ? [] : [`vp09.00.${level}.08`];
    }
    case 'av1': {
      const idx = pickLevel(AV1_LEVELS, width, height, fps);
      return idx === null ? [] : [`av01.0.${String(idx).padStart(2, '0')}M.08`];
    }
  }
}

/**
 * Constant-quality quantizers per preset (H.264 0-51; VP9 and AV1 0-63). A preset asks for a
 * quality, not a rate: with a bitrate, libvpx's rate control starved short clips (an identity
 * VP9 transcode of the 2-second test clip measured 34.7 dB against 38+ for H.264).
 */
export const PRESET_QUANTIZER: Readonly<
  Record<VideoCodecChoice, Readonly<Record<'low' | 'medium' | 'high', number>>>
> = {
  avc: { low: 32, medium: 26, high: 21 },
  vp9: { low: 40, medium: 32, high: 24 },
  av1: { low: 44, medium: 36, high: 28 },
};

/** The per-frame encode options that carry a quantizer, per codec. */
export function quantizerOptions(
  codec: VideoCodecChoice,
  quantizer: number,
): Pick<VideoEncoderEncodeOptions, 'avc' | 'vp9' | 'av1'> {
  switch (codec) {
    case 'avc':
      return { avc: { quantizer } };
    case 'vp9':
      return { vp9: { quantizer } };
    case 'av1':
      return { av1: { quantizer } };
  }
}

export interface EncoderChoice {
  readonly config: VideoEncoderConfig;
  /** Set when the encoder runs in constant-quality mode: pass it with every frame. */
  readonly quantizer: number | null;
  /** What was tried and refused before this one, for logs and the report. */
  readonly refused: readonly string[];
}

export async function chooseEncoderConfig(opts: {
  codec: VideoCodecChoice;
  width: number;
  height: number;
  fps: number;
  bitrate: number;
  /** Constant-quality mode where the encoder has it; else the bitrate above (variable). */
  quantizer?: number | null;
}): Promise<EncoderChoice> {
  const { codec, width, height, fps, bitrate } = opts;
  const refused: string[] = [];
  const candidates = codecCandidates(codec, width, height, fps);
  const modes = opts.quantizer == null ? [null] : [opts.quantizer, null];
  for (const codecString of candidates) {
    for (const quantizer of modes) {
      for (const hardwareAcceleration of ['no-preference', 'prefer-software'] as const) {
        const config: VideoEncoderConfig = {
          codec: codecString,
          width,
          height,
          framerate: fps,
          // 'realtime' may drop frames to hold the rate; an export must keep every frame.
          latencyMode: 'quality',
          hardwareAcceleration,
          ...(quantizer === null
            ? { bitrate, bitrateMode: 'variable' as const }
            : { bitrateMode: 'quantizer' as const }),
        };
        if (codec === 'avc') config.avc = { format: 'avc' };
        const support = await VideoEncoder.isConfigSupported(config).catch(() => ({
          supported: false,
        }));
        if (support.supported) return { config, quantizer, refused };
        refused.push(
          `${codecString}/${hardwareAcceleration}/${quantizer === null ? 'bitrate' : 'quantizer'}`,
        );
      }
    }
  }
  if (codec === 'avc' && (width % 2 === 1 || height % 2 === 1)) {
    // 4:2:0 H.264 from this browser has no odd sizes; nothing is too large here
    throw new UpframeError(
      'ENCODER_FAILED',
      `This browser's H.264 encoder takes only even frame sizes, and this video is ` +
        `${width}x${height}: choose VP9 or AV1 (a .webm or .mkv file), or a model's 2x scale.`,
    );
  }
  throw new UpframeError(
    'RESOLUTION_TOO_LARGE',
    `This browser cannot encode ${CODEC_NAMES[codec]} at ${width}x${height}` +
      (candidates.length === 0 ? ' (beyond the largest level of the format)' : '') +
      (codec === 'avc'
        ? ': choose a smaller scale, or VP9 or AV1 (a .webm file), which go larger.'
        : ': choose a smaller scale or another codec.'),
  );
}

/**
 * Whether this browser has an encoder for `codec` at this size and rate, as a render at the
 * default quality asks for it (the page and the command line choose the scale by it: Chromium's
 * software H.264 stops at level 5.2, 4096x2304, so 4x of a 720p clip cannot be encoded).
 */
export async function canEncode(
  codec: VideoCodecChoice,
  width: number,
  height: number,
  fps: number,
): Promise<boolean> {
  const even = (n: number): number => Math.max(2, Math.round(n / 2) * 2);
  try {
    await chooseEncoderConfig({
      codec,
      width: even(width),
      height: even(height),
      fps,
      bitrate: bitrateFor('high', codec, width, height, fps),
      quantizer: PRESET_QUANTIZER[codec].high,
    });
    return true;
  } catch (err) {
    if (err instanceof UpframeError && err.code === 'RESOLUTION_TOO_LARGE') return false;
    throw err;
  }
}
