/**
 * Node-side checks of output files with ffmpeg/ffprobe, tools that share no code with Upframe;
 * and the ways the tests run `npm run enhance`, as a command or in the test's own browser.
 */
import type { Page } from '@playwright/test';
import { execFileSync, spawnSync } from 'node:child_process';
import { basename } from 'node:path';
import type { HarnessOutcome } from '../src/harness/main.ts';
import type { JobSettings } from '../src/worker/settings.ts';

export interface VideoFacts {
  readonly frames: number;
  readonly width: number;
  readonly height: number;
  readonly rotation: number;
  readonly durationSeconds: number;
  readonly codec: string;
  readonly hasAudio: boolean;
}

interface ProbeJson {
  streams: {
    codec_type: string;
    codec_name: string;
    width?: number;
    height?: number;
    nb_read_packets?: string;
    duration?: string;
    side_data_list?: { rotation?: number }[];
  }[];
  format: { duration?: string };
}

export function videoFacts(path: string): VideoFacts {
  const json = JSON.parse(
    execFileSync('ffprobe', [
      '-v',
      'error',
      '-count_packets',
      '-show_entries',
      'stream=codec_type,codec_name,width,height,nb_read_packets,duration:stream_side_data=rotation:format=duration',
      '-of',
      'json',
      path,
    ]).toString(),
  ) as ProbeJson;
  const video = json.streams.find((s) => s.codec_type === 'video');
  if (!video) throw new Error(`${path} has no video stream`);
  const rotation = video.side_data_list?.find((d) => d.rotation !== undefined)?.rotation ?? 0;
  return {
    frames: Number(video.nb_read_packets ?? 0),
    width: video.width ?? 0,
    height: video.height ?? 0,
    rotation: ((rotation % 360) + 360) % 360,
    durationSeconds: Number(video.duration ?? json.format.duration ?? 0),
    codec: video.codec_name,
    hasAudio: json.streams.some((s) => s.codec_type === 'audio'),
  };
}

/** md5 of the audio packets as stored (a stream copy), or null without audio. */
export function audioMd5(path: string, bitstreamFilter: string | null = null): string | null {
  const r = spawnSync('ffmpeg', [
    '-v',
    'error',
    '-i',
    path,
    '-map',
    '0:a',
    '-c',
    'copy',
    ...(bitstreamFilter ? ['-bsf:a', bitstreamFilter] : []),
    '-f',
    'md5',
    '-',
  ]);
  const out = r.stdout.toString().trim();
  return r.status === 0 && out.startsWith('MD5=') ? out : null;
}

/** Average PSNR (dB) of `a` against `b`, after scaling `a` to `b`'s size if asked. */
export function psnr(
  a: string,
  b: string,
  scaleTo?: { width: number; height: number; flags: string },
): number {
  // pair frames by index (timestamps are checked elsewhere; WebM's millisecond rounding would
  // otherwise make ffmpeg pair neighbouring frames)
  const scale = scaleTo ? `,scale=${scaleTo.width}:${scaleTo.height}:flags=${scaleTo.flags}` : '';
  const filter = `[0:v]setpts=N/(25*TB)${scale}[a];[1:v]setpts=N/(25*TB)[b];[a][b]psnr`;
  const r = spawnSync('ffmpeg', [
    '-hide_banner',
    '-i',
    a,
    '-i',
    b,
    '-lavfi',
    filter,
    '-f',
    'null',
    '-',
  ]);
  const m = /average:([0-9.]+|inf)/.exec(r.stderr.toString());
  if (!m) throw new Error(`ffmpeg psnr failed: ${r.stderr.toString().slice(-400)}`);
  return m[1] === 'inf' ? Infinity : Number(m[1]);
}

/** ffmpeg's reading of a file's subtitle track `k` as SRT, at the file's own times. */
export function srtOf(path: string, k: number): string {
  const args = ['-v', 'error', '-copyts', '-i', path, '-map', `0:s:${k}`, '-f', 'srt', '-'];
  // (ffmpeg's SRT writer ends a cue's inner lines with CRLF)
  return execFileSync('ffmpeg', args).toString().replace(/\r\n/g, '\n');
}

export function ffmpeg(args: string[]): void {
  execFileSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', ...args], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
}

/** The file's start time (s) as ffprobe reads it: its earliest packet's. */
export function startTime(path: string): number {
  return Number(
    execFileSync('ffprobe', [
      ...['-v', 'error', '-show_entries', 'format=start_time', '-of', 'csv=p=0', path],
    ])
      .toString()
      .trim()
      .replace(/,+$/, ''),
  );
}

/**
 * Presentation times (s) of the decoded frames as ffmpeg has them: an MPEG program stream holds
 * no time for some pictures, and ffmpeg's decoder gives them theirs in order (the last one, none:
 * one frame after the one before it).
 */
export function decodedFramePts(path: string): number[] {
  const out = execFileSync('ffprobe', [
    ...['-v', 'error', '-select_streams', 'v:0'],
    ...['-show_entries', 'frame=best_effort_timestamp_time', '-of', 'json', path],
  ]).toString();
  const frames = (JSON.parse(out) as { frames: { best_effort_timestamp_time?: string }[] }).frames;
  const times: number[] = [];
  for (const f of frames) {
    const t = f.best_effort_timestamp_time;
    const n = times.length;
    times.push(t !== undefined ? Number(t) : 2 * times[n - 1]! - times[n - 2]!);
  }
  return times.sort((a, b) => a - b);
}

/** Presentation times (s) of the video packets, ascending. */
export function framePts(path: string): number[] {
  const csv = execFileSync('ffprobe', [
    '-v',
    'error',
    '-select_streams',
    'v:0',
    '-show_entries',
    'packet=pts_time,dts_time',
    '-of',
    'csv=p=0',
    path,
  ]).toString();
  // (a transport stream's lines end in a comma: ffprobe's empty program field); H.264 in AVI
  // has no presentation times, only decode times, which are the same without B-frames
  return csv
    .split('\n')
    .map((l) => l.trim().split(','))
    .filter((f) => f[0] !== '')
    .map(([pts, dts]) => Number(pts === 'N/A' ? dts : pts))
    .sort((a, b) => a - b);
}

/** `npm run enhance -- input output ...flags`, run to its end: exit status and output. */
export function enhance(input: string, output: string, ...flags: string[]) {
  const r = spawnSync(
    process.execPath,
    ['--import', 'tsx', 'scripts/enhance.ts', input, output, ...flags],
    {
      encoding: 'utf8',
      timeout: 600_000,
    },
  );
  return {
    status: r.status,
    stdout: r.stdout,
    stderr: r.stderr,
  };
}

/**
 * What `npm run enhance -- input output --model none` does (with `patch` for its other flags),
 * without starting a command, a server and a browser each time: the same harness page
 * (dist/harness.html) and settings, in the test's own browser. Returns the render's warnings
 * (the lines the command prints as "warning: ..."). The command's own path is covered by the
 * tests that run it.
 */
export async function enhanceInPage(
  page: Page,
  input: string,
  output: string,
  patch: Partial<JobSettings> = {},
): Promise<{ warnings: readonly string[] }> {
  await page.goto('harness.html');
  await page.waitForSelector('body[data-ready="true"]');
  await page.setInputFiles('#input', input);
  const settings: JobSettings = {
    model: { type: 'none' },
    backend: 'wasm',
    codec: 'avc',
    quality: 'high',
    tileSize: 0,
    frameRange: null,
    container: 'mp4',
    temporal: null,
    deinterlace: null,
    ...patch,
  };
  const download = page.waitForEvent('download', { timeout: 120_000 });
  const outcome: HarnessOutcome = await page.evaluate(
    ([s, name]) => window.upframe!.enhance(s, name),
    [settings, basename(output)] as const,
  );
  if (!outcome.ok) throw new Error(`${outcome.error.code}: ${outcome.error.message}`);
  await (await download).saveAs(output);
  return { warnings: outcome.result.transcode.warnings };
}
