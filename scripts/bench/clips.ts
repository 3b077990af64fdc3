/**
 * Bench clips made with ffmpeg at run time (testsrc2: moving colour bars, a clock and noise-free
 * gradients; H.264 in MP4), cached in .cache/bench/ by name so reruns skip the encode.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from './browser.ts';

export const CLIP_DIR = join(ROOT, '.cache', 'bench');

/**
 * Path of an H.264 testsrc2 clip of `frames` frames at `fps`, with an AAC sine track of the same
 * length when `audio` is set; made once.
 */
export function testClip(
  width: number,
  height: number,
  frames: number,
  fps = 24,
  audio = false,
): string {
  mkdirSync(CLIP_DIR, { recursive: true });
  const name = `testsrc2-${width}x${height}-${frames}f-${fps}fps${audio ? '-aac' : ''}.mp4`;
  const path = join(CLIP_DIR, name);
  if (existsSync(path)) return path;
  execFileSync(
    'ffmpeg',
    [
      '-hide_banner',
      '-loglevel',
      'error',
      '-y',
      '-f',
      'lavfi',
      '-i',
      `testsrc2=size=${width}x${height}:rate=${fps}`,
      ...(audio
        ? ['-f', 'lavfi', '-i', `sine=frequency=440:sample_rate=48000:duration=${frames / fps}`]
        : []),
      '-frames:v',
      String(frames),
      '-c:v',
      'libx264',
      '-preset',
      'veryfast',
      '-pix_fmt',
      'yuv420p',
      '-g',
      String(2 * fps),
      ...(audio ? ['-c:a', 'aac', '-b:a', '64k', '-shortest'] : []),
      '-movflags',
      '+faststart',
      path,
    ],
    { stdio: ['ignore', 'ignore', 'inherit'] },
  );
  return path;
}
