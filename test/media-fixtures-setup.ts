/**
 * Global setup of the `browser` project: makes the media fixtures, then serves them and an ffmpeg
 * check-up of outputs on a localhost port, so browser tests can verify their files with tools that
 * share no code with ours (ffprobe frame counts and timestamps, audio packet hashes, PSNR).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { ensureMediaFixtures, fixturePath, type FixtureName } from './media-fixtures.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    mediaServer: string;
  }
}

export interface OutputReport {
  format: string;
  streams: {
    codec_type: string;
    codec_name: string;
    width?: number;
    height?: number;
    nb_frames?: string;
    rotation?: number;
    color_space?: string;
    color_primaries?: string;
  }[];
  videoPtsSeconds: number[];
  /** framemd5 "size,hash" of each audio packet, in order. */
  audioPackets: string[];
  sourceAudioPackets: string[];
  psnr: number | null;
}

function run(cmd: string, args: string[]): string {
  return execFileSync(cmd, args, {
    encoding: 'utf8',
    maxBuffer: 64 << 20,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

function audioPackets(path: string): string[] {
  const out = run('ffmpeg', [
    '-v',
    'error',
    '-i',
    path,
    '-map',
    '0:a:0?',
    '-c',
    'copy',
    '-f',
    'framemd5',
    '-',
  ]);
  return out
    .split('\n')
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => l.split(',').map((x) => x.trim()))
    .map((cols) => `${cols[4]},${cols[5]}`);
}

function analyze(outPath: string, ref: FixtureName | null, psnr: boolean): OutputReport {
  const probe = JSON.parse(
    run('ffprobe', ['-v', 'error', '-show_format', '-show_streams', '-of', 'json', outPath]),
  ) as {
    format: { format_name: string };
    streams: (OutputReport['streams'][number] & { side_data_list?: { rotation?: number }[] })[];
  };
  const pts = run('ffprobe', [
    '-v',
    'error',
    '-select_streams',
    'v:0',
    '-show_entries',
    'packet=pts_time',
    '-of',
    'csv=p=0',
    outPath,
  ])
    .split('\n')
    .filter(Boolean)
    .map(Number)
    .sort((a, b) => a - b);
  let score: number | null = null;
  if (psnr && ref) {
    // ffmpeg prints the PSNR summary on stderr.
    const log = spawnSync(
      'ffmpeg',
      [
        '-hide_banner',
        '-i',
        outPath,
        '-i',
        fixturePath(ref),
        '-lavfi',
        '[0:v][1:v]psnr',
        '-f',
        'null',
        '-',
      ],
      { encoding: 'utf8' },
    ).stderr;
    const m = /average:([0-9.]+|inf)/.exec(log);
    score = m ? (m[1] === 'inf' ? Infinity : Number(m[1])) : null;
  }
  return {
    format: probe.format.format_name,
    streams: probe.streams.map((s) => ({
      ...s,
      rotation: s.side_data_list?.find((d) => d.rotation !== undefined)?.rotation,
    })),
    videoPtsSeconds: pts,
    audioPackets: audioPackets(outPath),
    sourceAudioPackets: ref ? audioPackets(fixturePath(ref)) : [],
    psnr: score,
  };
}

function body(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    req.on('data', (c: Buffer) => parts.push(c));
    req.on('end', () => resolve(Buffer.concat(parts)));
    req.on('error', reject);
  });
}

async function handle(req: IncomingMessage, res: ServerResponse, scratch: string): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://localhost');
  res.setHeader('Access-Control-Allow-Origin', '*');
  res.setHeader('Cross-Origin-Resource-Policy', 'cross-origin');
  if (req.method === 'OPTIONS') {
    res.setHeader('Access-Control-Allow-Methods', 'GET, POST');
    res.setHeader('Access-Control-Allow-Headers', '*');
    res.end();
    return;
  }
  if (req.method === 'GET' && url.pathname.startsWith('/fixtures/')) {
    const name = basename(url.pathname) as FixtureName;
    res.setHeader('Content-Type', 'application/octet-stream');
    res.end(readFileSync(fixturePath(name)));
    return;
  }
  if (req.method === 'POST' && url.pathname === '/analyze') {
    const bytes = await body(req);
    const ext = url.searchParams.get('ext') ?? 'mp4';
    const outPath = join(
      scratch,
      `out-${Date.now()}-${Math.random().toString(36).slice(2)}.${ext}`,
    );
    writeFileSync(outPath, bytes);
    try {
      const ref = url.searchParams.get('ref') as FixtureName | null;
      const report = analyze(outPath, ref, url.searchParams.get('psnr') === '1');
      res.setHeader('Content-Type', 'application/json');
      res.end(JSON.stringify(report));
    } finally {
      rmSync(outPath, { force: true });
    }
    return;
  }
  res.statusCode = 404;
  res.end('not found');
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  ensureMediaFixtures();
  const scratch = mkdtempSync(join(tmpdir(), 'upframe-media-'));
  const server = createServer((req, res) => {
    handle(req, res, scratch).catch((err: unknown) => {
      res.statusCode = 500;
      res.end(String(err));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  project.provide('mediaServer', `http://127.0.0.1:${port}`);
  return async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    rmSync(scratch, { recursive: true, force: true });
  };
}
