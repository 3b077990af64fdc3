/**
 * Flow quality: our WGSL pyramidal Lucas-Kanade (src/kernels/flow, run on the GPU through Dawn
 * in Node, as the kernel tests do) against OpenCV's DIS (preset MEDIUM, Debian's python3-opencv)
 * on synthetic pairs with a KNOWN flow rendered from real photographs.
 *
 *   npx tsx scripts/eval-flow/run.ts [--json FILE] [--size WxH]
 *
 * Photographs: Debian package `lomiri-wallpapers-16.04` (the Ubuntu Touch 16.04 wallpapers), files
 * in /usr/share/backgrounds/; licences per /usr/share/doc/lomiri-wallpapers-16.04/copyright and
 * listed in PHOTOS below (CC-BY-4.0 / CC-BY-SA-4.0). This script installs nothing: it tells which
 * apt command to run when the package is missing.
 *
 * Reported: mean endpoint error (EPE, px) over pixels at least 8 px from the border whose true
 * match is visible in the previous frame (not occluded by the moving object, not off the frame);
 * the zero flow's EPE is the "do nothing" baseline. Timings are wall-clock on this machine's GPU
 * (SwiftShader on a CPU here: only relative figures mean anything).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { register } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  affineScene,
  PHOTO_MARGIN,
  renderMovingObject,
  renderScene,
  type Photo,
  type RenderedPair,
} from './scenes.ts';

const PACKAGE = 'lomiri-wallpapers-16.04';
const PHOTO_DIR = '/usr/share/backgrounds';
const PHOTOS = [
  {
    file: 'Dragonfly_by_Bolly.jpg',
    licence: 'CC-BY-SA-4.0, "Bolly" 2018',
    subject: 'leaves against the sky',
  },
  {
    file: 'life_by_Aitzol_Berasategi.jpg',
    licence: 'CC-BY-4.0, Aitzol Berasategi 2018',
    subject: 'forest stream',
  },
  {
    file: 'Picture_1A_by_freespace.jpg',
    licence: 'CC-BY-4.0, Trevor "Freespace" 2018',
    subject: 'paint brushes',
  },
  {
    file: 'aitzgorri_by_Aitzol_Berasategi.jpg',
    licence: 'CC-BY-4.0, Aitzol Berasategi 2018',
    subject: 'mountain landscape',
  },
] as const;
const PYTHON = '/usr/bin/python3';
const HERE = fileURLToPath(new URL('.', import.meta.url));

function parseArgs(argv: string[]): { json?: string; width: number; height: number } {
  let json: string | undefined;
  let [width, height] = [320, 180];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--json') json = argv[++i];
    else if (arg === '--size') {
      const m = /^(\d+)x(\d+)$/.exec(argv[++i] ?? '');
      if (!m) throw new Error('--size wants WxH, e.g. 320x180');
      [width, height] = [Number(m[1]), Number(m[2])];
    } else throw new Error(`unknown argument ${String(arg)} (use --json FILE, --size WxH)`);
  }
  return { ...(json === undefined ? {} : { json }), width, height };
}

/** Decodes a photo to grey at 2x the frame size plus the margin, cropped to the frame's aspect. */
function loadPhoto(path: string, w: number, h: number): Photo {
  const [pw, ph] = [2 * (w + 2 * PHOTO_MARGIN), 2 * (h + 2 * PHOTO_MARGIN)];
  const raw = execFileSync(
    'ffmpeg',
    [
      '-loglevel',
      'error',
      '-i',
      path,
      '-vf',
      `scale=${pw}:${ph}:force_original_aspect_ratio=increase,crop=${pw}:${ph}`,
      '-f',
      'rawvideo',
      '-pix_fmt',
      'gray',
      '-',
    ],
    { maxBuffer: 64 << 20 },
  );
  if (raw.length !== pw * ph) throw new Error(`ffmpeg gave ${raw.length} bytes for ${path}`);
  return { data: Float32Array.from(raw, (v) => v / 255), width: pw, height: ph };
}

interface Case {
  readonly scene: string;
  readonly photo: string;
  readonly pair: RenderedPair;
}

function buildCases(photos: Photo[], names: string[], w: number, h: number): Case[] {
  const centre: [number, number] = [(w - 1) / 2, (h - 1) / 2];
  // magnitudes are given for 320 x 180 and scale with the frame
  const s = w / 320;
  const rad = (2 * Math.PI) / 180;
  const scenes = [
    affineScene('translate (3.4, -2.1) px', [1, 0, 0, 1], [3.4 * s, -2.1 * s], centre),
    affineScene(
      'rotate 2 deg',
      [Math.cos(rad), -Math.sin(rad), Math.sin(rad), Math.cos(rad)],
      [0, 0],
      centre,
    ),
    affineScene('zoom 4 %', [1.04, 0, 0, 1.04], [0, 0], centre),
  ];
  const cases: Case[] = [];
  photos.forEach((photo, p) => {
    for (const scene of scenes) {
      cases.push({ scene: scene.name, photo: names[p]!, pair: renderScene(photo, scene, w, h) });
    }
    const object = photos[(p + 1) % photos.length]!;
    cases.push({
      scene: 'object (-6, 3.5) px over background (1.2, 0.8) px',
      photo: `${names[p]!} + ${names[(p + 1) % photos.length]!}`,
      pair: renderMovingObject(
        photo,
        object,
        w,
        h,
        [1.2 * s, 0.8 * s],
        [-6 * s, 3.5 * s],
        [w * 0.45, h * 0.5],
        40 * s,
      ),
    });
  });
  return cases;
}

function endpointError(flow: Float32Array, pair: RenderedPair, w: number, h: number): number {
  const margin = 8;
  let sum = 0;
  let n = 0;
  for (let y = margin; y < h - margin; y++) {
    for (let x = margin; x < w - margin; x++) {
      const i = y * w + x;
      if (!pair.valid[i]) continue;
      sum += Math.hypot(flow[i]! - pair.truth[i]!, flow[w * h + i]! - pair.truth[w * h + i]!);
      n++;
    }
  }
  return sum / n;
}

function runDis(cases: Case[], w: number, h: number): { flows: Float32Array[]; opencv: string } {
  const dir = mkdtempSync(join(tmpdir(), 'eval-flow-'));
  try {
    const manifest = cases.map((c, k) => {
      const toBytes = (f: Float32Array): Uint8Array =>
        Uint8Array.from(f, (v) => Math.round(v * 255));
      const paths = {
        current: join(dir, `${k}-cur.raw`),
        previous: join(dir, `${k}-prev.raw`),
        out: join(dir, `${k}-flow.raw`),
      };
      writeFileSync(paths.current, toBytes(c.pair.current));
      writeFileSync(paths.previous, toBytes(c.pair.previous));
      return { width: w, height: h, ...paths };
    });
    writeFileSync(join(dir, 'manifest.json'), JSON.stringify(manifest));
    const reply = execFileSync(PYTHON, [join(HERE, 'opencv-dis.py'), join(dir, 'manifest.json')], {
      encoding: 'utf8',
    });
    const { opencv } = JSON.parse(reply.trim().split('\n').pop() ?? '{}') as { opencv: string };
    const flows = manifest.map((m) => {
      const bytes = readFileSync(m.out);
      return new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4).slice();
    });
    return { flows, opencv };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function runOurs(
  cases: Case[],
  w: number,
  h: number,
): Promise<{ flows: Float32Array[]; msPerFrame: number; adapter: string }> {
  // the kernel imports its shader as `flow.wgsl?raw` (a Vite idiom): teach Node the same
  register('../../test/raw-loader.mjs', import.meta.url);
  const { testGpu } = await import('../../test/gpu-device.ts');
  const { prepareFlow } = await import('../../src/kernels/flow/flow.ts');
  const { readFloat32 } = await import('../../src/gpu/readback.ts');
  const { device, info } = await testGpu();
  const usage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC;
  const cur = device.createBuffer({ size: w * h * 4, usage });
  const prev = device.createBuffer({ size: w * h * 4, usage });
  const out = device.createBuffer({ size: 2 * w * h * 4, usage });
  const flow = prepareFlow(device, { width: w, height: h, channels: 1 });
  const flows: Float32Array[] = [];
  const times: number[] = [];
  for (const c of cases) {
    device.queue.writeBuffer(cur, 0, c.pair.current);
    device.queue.writeBuffer(prev, 0, c.pair.previous);
    await device.queue.onSubmittedWorkDone();
    const t0 = performance.now();
    const encoder = device.createCommandEncoder();
    await flow.encode(encoder, cur, prev, out);
    device.queue.submit([encoder.finish()]);
    await device.queue.onSubmittedWorkDone();
    times.push(performance.now() - t0);
    flows.push(await readFloat32(device, out, 2 * w * h));
  }
  flow.destroy();
  for (const b of [cur, prev, out]) b.destroy();
  times.sort((a, b) => a - b);
  return {
    flows,
    msPerFrame: times[Math.floor(times.length / 2)]!,
    adapter: `${info.vendor} ${info.architecture}`.trim(),
  };
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const { width: w, height: h } = args;
  const missing = PHOTOS.filter((p) => !existsSync(join(PHOTO_DIR, p.file)));
  if (missing.length > 0) {
    console.error(`Photographs missing (${missing.map((p) => p.file).join(', ')}).`);
    console.error(`Install them with: apt-get update && apt-get install -y ${PACKAGE}`);
    process.exit(2);
  }
  const names = PHOTOS.map((p) => p.file.replace(/\.jpg$/, ''));
  const photos = PHOTOS.map((p) => loadPhoto(join(PHOTO_DIR, p.file), w, h));
  const cases = buildCases(photos, names, w, h);
  const dis = runDis(cases, w, h);
  const ours = await runOurs(cases, w, h);
  const zero = new Float32Array(2 * w * h);
  const rows = cases.map((c, k) => ({
    scene: c.scene,
    photo: c.photo,
    epeOurs: endpointError(ours.flows[k]!, c.pair, w, h),
    epeDis: endpointError(dis.flows[k]!, c.pair, w, h),
    epeZero: endpointError(zero, c.pair, w, h),
  }));
  const fmt = (v: number): string => v.toFixed(3).padStart(8);
  console.log(`Flow EPE (px) at ${w}x${h}; photos from Debian package ${PACKAGE} (${PHOTO_DIR}):`);
  for (const p of PHOTOS) console.log(`  ${p.file}: ${p.subject}; ${p.licence}`);
  console.log(`\n${'scene'.padEnd(50)} ${'photo'.padEnd(62)}     ours      DIS     zero`);
  for (const r of rows) {
    console.log(
      `${r.scene.padEnd(50)} ${r.photo.padEnd(62)} ${fmt(r.epeOurs)} ${fmt(r.epeDis)} ${fmt(r.epeZero)}`,
    );
  }
  const bySceneMean = [...new Set(rows.map((r) => r.scene))].map((scene) => {
    const rs = rows.filter((r) => r.scene === scene);
    const mean = (f: (r: (typeof rows)[number]) => number): number =>
      rs.reduce((s, r) => s + f(r), 0) / rs.length;
    return {
      scene,
      epeOurs: mean((r) => r.epeOurs),
      epeDis: mean((r) => r.epeDis),
      epeZero: mean((r) => r.epeZero),
    };
  });
  console.log('\nmean over photos:');
  for (const r of bySceneMean)
    console.log(`${r.scene.padEnd(113)} ${fmt(r.epeOurs)} ${fmt(r.epeDis)} ${fmt(r.epeZero)}`);
  console.log(
    `\nours: WGSL pyramidal LK on ${ours.adapter}, median ${ours.msPerFrame.toFixed(1)} ms/frame (submit to done); DIS: OpenCV ${dis.opencv} PRESET_MEDIUM`,
  );
  if (args.json) {
    const report = {
      size: { width: w, height: h },
      photos: {
        package: PACKAGE,
        directory: PHOTO_DIR,
        files: PHOTOS,
        copyright: `/usr/share/doc/${PACKAGE}/copyright`,
      },
      epe: 'mean endpoint error in px, pixels >= 8 px from the border whose match is visible',
      ours: {
        method: 'src/kernels/flow (pyramidal Lucas-Kanade, defaults)',
        adapter: ours.adapter,
        msPerFrame: ours.msPerFrame,
      },
      dis: {
        method: 'cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM)',
        opencv: dis.opencv,
      },
      rows,
      bySceneMean,
    };
    writeFileSync(args.json, `${JSON.stringify(report, null, 2)}\n`);
    console.log(`wrote ${args.json}`);
  }
}

await main();
