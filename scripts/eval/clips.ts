/**
 * The eval's clips: the truth sequences rendered from scikit-image's photographs and the
 * degradation that makes their low-quality input. Shared by `npm run eval` (run.ts) and the
 * self-ensemble probe (ensemble.ts), so both score the same clips.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { DecodedClip } from '../../src/bench/types.ts';
import type { EvalScale } from './methods.ts';
import type { RgbFrame } from './metrics.ts';
import type { Photo, Sequence, SequenceSpec } from './sequences.ts';

export const DATA = '/usr/lib/python3/dist-packages/skimage/data';
export const HR = { width: 480, height: 288 };

export interface Size {
  width: number;
  height: number;
}

export function lqSize(scale: EvalScale): Size {
  return { width: HR.width / scale, height: HR.height / scale };
}

export function degradation(scale: EvalScale): string {
  return `gblur sigma 1.2, area x1/${scale}, noise alls=3 (temporal), H.264 libx264 CRF 28 yuv420p bt709`;
}

export function loadPhoto(file: string): Photo {
  const path = join(DATA, file);
  if (!existsSync(path)) {
    console.error(
      `${path} is missing: install Debian's scikit-image sample data with "apt-get install -y python3-skimage".`,
    );
    process.exit(2);
  }
  const probe = execFileSync(
    'ffprobe',
    ['-v', 'error', '-show_entries', 'stream=width,height', '-of', 'csv=p=0', path],
    { encoding: 'utf8' },
  );
  const [width, height] = probe.trim().split(',').map(Number) as [number, number];
  const raw = execFileSync(
    'ffmpeg',
    ['-v', 'error', '-i', path, '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-'],
    { maxBuffer: 1 << 28 },
  );
  return { width, height, data: Float32Array.from(raw) };
}

export function specs(frames: number): SequenceSpec[] {
  const coffee = loadPhoto('coffee.png');
  const rocket = loadPhoto('rocket.jpg');
  const astronaut = loadPhoto('astronaut.png');
  const chelsea = loadPhoto('chelsea.png');
  const mid = (frames - 1) / 2;
  return [
    {
      name: 'pan',
      description: 'coffee.png panned by (3.7, 1.3) px per frame',
      ...HR,
      frames,
      photo: coffee,
      camera: { scale: () => 1, offset: (t) => [3.7 * (t - mid), 1.3 * (t - mid)] },
    },
    {
      name: 'zoom',
      description: 'rocket.jpg zooming in by 2.5 % per frame',
      ...HR,
      frames,
      photo: rocket,
      camera: { scale: (t) => 0.975 ** t, offset: () => [0, 0] },
    },
    {
      name: 'object',
      description:
        'a disk of chelsea.png (r = 48) moving (5.5, -2.5) px per frame over astronaut.png panning (-2.2, 0.8)',
      ...HR,
      frames,
      photo: astronaut,
      camera: { scale: () => 1, offset: (t) => [-2.2 * (t - mid), 0.8 * (t - mid)] },
      disk: {
        photo: chelsea,
        radius: 48,
        centre: (t) => [170 + 5.5 * t, 160 - 2.5 * t],
      },
    },
  ];
}

/** Blur, area downscale by `scale`, noise, H.264: the low-quality clip the models see. */
export function degrade(sequence: Sequence, scale: EvalScale, path: string): void {
  const lq = lqSize(scale);
  const raw = Buffer.concat(sequence.frames.map((f) => Buffer.from(f.data)));
  execFileSync(
    'ffmpeg',
    [
      '-v',
      'error',
      '-y',
      '-f',
      'rawvideo',
      '-pix_fmt',
      'rgb24',
      '-s',
      `${HR.width}x${HR.height}`,
      '-r',
      '24',
      '-i',
      '-',
      '-vf',
      `gblur=sigma=1.2,scale=${lq.width}:${lq.height}:flags=area,noise=alls=3:allf=t,scale=out_color_matrix=bt709:out_range=tv,format=yuv420p`,
      '-c:v',
      'libx264',
      '-preset',
      'medium',
      '-crf',
      '28',
      '-threads',
      '1',
      '-colorspace',
      'bt709',
      '-color_primaries',
      'bt709',
      '-color_trc',
      'bt709',
      '-color_range',
      'tv',
      path,
    ],
    { input: raw },
  );
}

/** ffmpeg's bicubic from the decoded LQ frames (any size) up to the truth's size. */
export function bicubic(lq: RgbFrame[]): RgbFrame[] {
  const { width, height } = lq[0]!;
  const raw = Buffer.concat(lq.map((f) => Buffer.from(f.data)));
  const out = execFileSync(
    'ffmpeg',
    [
      '-v',
      'error',
      '-f',
      'rawvideo',
      '-pix_fmt',
      'rgb24',
      '-s',
      `${width}x${height}`,
      '-i',
      '-',
      '-vf',
      `scale=${HR.width}:${HR.height}:flags=bicubic`,
      '-f',
      'rawvideo',
      '-pix_fmt',
      'rgb24',
      '-',
    ],
    { input: raw, maxBuffer: 1 << 28 },
  );
  const size = HR.width * HR.height * 3;
  return lq.map((_, i) => ({
    ...HR,
    data: new Uint8Array(out.buffer, out.byteOffset + i * size, size),
  }));
}

/** The RGB frames of a clip the bench page decoded (base64 in its answer). */
export function framesOf(clip: DecodedClip): RgbFrame[] {
  return clip.frames.map((b64) => ({
    width: clip.width,
    height: clip.height,
    data: new Uint8Array(Buffer.from(b64, 'base64')),
  }));
}
