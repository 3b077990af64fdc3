/**
 * The `subtitles` bench case: how long reading a film's subtitle lines takes, through the file's
 * index (Cues) and by walking its clusters, on a long 720p MKV at 8 Mbit/s with an SRT line
 * every 3 s. Run in Node on a disk-backed Blob (`openAsBlob`), as the worker reads a picked file.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, openAsBlob, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fromIndex, scanClusters, textSubtitleTracks } from '../../src/media/mkv-subtitles.ts';
import { matroskaHead } from '../../src/media/mkv-tracks.ts';
import { CLIP_DIR, testClip } from './clips.ts';

export interface SubtitleCaseResult {
  readonly minutes: number;
  /** Subtitle tracks (each the same lines, as a film's languages). */
  readonly tracks: number;
  readonly fileBytes: number;
  readonly lines: number;
  readonly indexMs: number;
  readonly scanMs: number;
  /** Both ways found the same lines at the same times. */
  readonly same: boolean;
}

const ffmpeg = (args: string[]): void => {
  execFileSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', ...args], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
};

/**
 * A `minutes`-long MKV: a minute of 720p looped, and `tracks` SRT tracks with a line every 3 s
 * (a film's languages); made once.
 */
export function subtitledClip(minutes: number, tracks = 1): string {
  const path = join(
    CLIP_DIR,
    `subtitled-720p-${minutes}min${tracks > 1 ? `-${tracks}tracks` : ''}.mkv`,
  );
  if (existsSync(path)) return path;
  const minute = join(CLIP_DIR, 'testsrc2-1280x720-1min-8M.mkv');
  if (!existsSync(minute)) {
    testClip(32, 32, 4); // makes the directory
    ffmpeg([
      ...['-f', 'lavfi', '-i', 'testsrc2=size=1280x720:rate=24', '-t', '60'],
      ...['-c:v', 'libx264', '-preset', 'ultrafast', '-b:v', '8M', '-g', '48', minute],
    ]);
  }
  const srt = join(CLIP_DIR, `lines-${minutes}min.srt`);
  const time = (s: number): string =>
    `${new Date(s * 1000).toISOString().slice(11, 19)},${String(Math.round((s % 1) * 1000)).padStart(3, '0')}`;
  const lines = Array.from(
    { length: (minutes * 60) / 3 },
    (_, i) => `${i + 1}\n${time(i * 3 + 0.5)} --> ${time(i * 3 + 2.5)}\nLine ${i + 1}\n`,
  );
  writeFileSync(srt, lines.join('\n'));
  const inputs = Array.from({ length: tracks }, () => ['-i', srt]).flat();
  const maps = Array.from({ length: tracks }, (_, k) => ['-map', String(k + 1)]).flat();
  ffmpeg([
    ...['-stream_loop', String(minutes - 1), '-i', minute, ...inputs, '-map', '0:v', ...maps],
    ...['-c', 'copy', '-c:s', 'srt', '-t', String(minutes * 60), path],
  ]);
  return path;
}

export async function subtitleCase(minutes: number, tracks = 1): Promise<SubtitleCaseResult> {
  const path = subtitledClip(minutes, tracks);
  const blob = await openAsBlob(path);
  const head = await matroskaHead(blob);
  if (!head) throw new Error(`${path} has no Matroska head`);
  const wanted = new Set(textSubtitleTracks(head.tracks).map((t) => t.id));
  let t0 = performance.now();
  const indexed = await fromIndex(blob, head, wanted, -Infinity, Infinity);
  const indexMs = performance.now() - t0;
  t0 = performance.now();
  const scanned = await scanClusters(blob, head, wanted, -Infinity, Infinity);
  const scanMs = performance.now() - t0;
  const key = (f: { startUs: number; payload: Uint8Array }): string =>
    `${f.startUs}:${new TextDecoder().decode(f.payload)}`;
  const same =
    indexed !== null && JSON.stringify(indexed.map(key)) === JSON.stringify(scanned.map(key));
  return { minutes, tracks, fileBytes: blob.size, lines: scanned.length, indexMs, scanMs, same };
}
