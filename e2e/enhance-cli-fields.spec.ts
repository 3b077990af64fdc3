/**
 * `npm run enhance` on interlaced fixtures: fields are found picture by picture as the stream
 * marks them, in the order it says, and deinterlaced before the model; checked with ffmpeg's idet
 * and PSNR against the true progressive picture.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ensureMediaFixtures, fixturePath, type FixtureName } from '../test/media-fixtures.ts';
import { expect, test } from './guard.ts';
import type { JobSettings } from '../src/worker/settings.ts';
import { enhance, enhanceInPage, ffmpeg, psnr, videoFacts } from './media-tools.ts';

const OUT = resolve('test-results', 'enhance-cli-fields');

test.beforeAll(() => {
  ensureMediaFixtures();
  rmSync(OUT, { recursive: true, force: true });
  mkdirSync(OUT, { recursive: true });
});

/** ffmpeg's idet verdicts over a file's frames: how many look top-field-first, progressive... */
function idet(path: string): { tff: number; bff: number; progressive: number } {
  const log = spawnSync(
    'ffmpeg',
    ['-hide_banner', '-i', path, '-vf', 'idet', '-an', '-f', 'null', '-'],
    {
      encoding: 'utf8',
    },
  ).stderr;
  const m = /Multi frame detection: TFF:\s*(\d+) BFF:\s*(\d+) Progressive:\s*(\d+)/.exec(log);
  if (!m) throw new Error(`no idet verdict for ${path}: ${log.slice(-300)}`);
  return { tff: Number(m[1]), bff: Number(m[2]), progressive: Number(m[3]) };
}

test('interlaced 1080i is deinterlaced by default: progressive frames, closer to the true picture', () => {
  // 50p test pattern woven into 25i (top field first): the truth for frame n is 50p frame 2n
  const input = fixturePath('interlaced.m2ts');
  const auto = join(OUT, 'interlaced.auto.mp4');
  const off = join(OUT, 'interlaced.off.mp4');
  const r = enhance(input, auto, '--model', 'none');
  expect(r.status, r.stderr).toBe(0);
  expect(r.stdout).toContain('warning: This video may be interlaced');
  expect(enhance(input, off, '--model', 'none', '--deinterlace', 'off').status).toBe(0);
  const src = videoFacts(input);
  for (const out of [auto, off]) {
    const facts = videoFacts(out);
    expect([facts.frames, facts.width, facts.height]).toEqual([src.frames, 1440, 1080]);
  }
  // ffmpeg's interlace detector: the source and the render left alone are combed, the
  // deinterlaced render is not
  const [inputVerdict, autoVerdict, offVerdict] = [idet(input), idet(auto), idet(off)];
  expect(inputVerdict.tff).toBeGreaterThanOrEqual(src.frames - 2);
  expect(offVerdict.tff).toBeGreaterThanOrEqual(src.frames - 2);
  expect(autoVerdict.progressive).toBeGreaterThanOrEqual(src.frames - 2);
  const truth = join(OUT, 'interlaced.truth.mkv');
  ffmpeg([
    ...[
      '-f',
      'lavfi',
      '-i',
      'testsrc2=size=1440x1080:rate=50',
      // as many truth frames as rendered ones (ffmpeg's psnr repeats the last frame of the
      // shorter file)
      '-frames:v',
      String(src.frames),
    ],
    ...['-vf', "select='not(mod(n\\,2))',setpts=N/(25*TB),format=yuv420p", '-c:v', 'ffv1', truth],
  ]);
  const [deinterlaced, woven] = [psnr(auto, truth), psnr(off, truth)];
  test.info().annotations.push({
    type: 'PSNR against the progressive pictures',
    description: `deinterlaced ${deinterlaced.toFixed(2)} dB, woven ${woven.toFixed(2)} dB`,
  });
  expect(deinterlaced).toBeGreaterThan(woven + 3);
});

test('bottom field first, as the stream says: the bottom field is kept and the top one rebuilt; --deinterlace top overrides it', () => {
  // 50p test pattern woven into 25i bottom field first: the truth for frame n is 50p frame 2n
  const input = fixturePath('interlaced-bff.mp4');
  const auto = join(OUT, 'interlaced-bff.auto.mp4');
  const r = enhance(input, auto, '--model', 'none');
  expect(r.status, r.stderr).toBe(0);
  const frames = videoFacts(input).frames;
  expect(videoFacts(auto).frames).toBe(frames);
  const truth = join(OUT, 'interlaced-bff.truth.mkv');
  ffmpeg([
    ...['-f', 'lavfi', '-i', 'testsrc2=size=480x272:rate=50'],
    ...['-vf', "select='not(mod(n\\,2))',setpts=N/(25*TB),format=yuv420p"],
    ...['-frames:v', String(frames), '-c:v', 'ffv1', truth],
  ]);
  // the person's word over the stream's: taken as top field first (what Upframe did with every
  // clip before it read the order) the moving parts are rebuilt a field off
  const top = join(OUT, 'interlaced-bff.top.mp4');
  expect(enhance(input, top, '--model', 'none', '--deinterlace', 'top').status).toBe(0);
  const [deinterlaced, woven, wrong] = [psnr(auto, truth), psnr(input, truth), psnr(top, truth)];
  test.info().annotations.push({
    type: 'PSNR against the progressive pictures',
    description: `deinterlaced ${deinterlaced.toFixed(2)} dB, woven ${woven.toFixed(2)} dB, taken as top field first ${wrong.toFixed(2)} dB`,
  });
  expect(deinterlaced).toBeGreaterThan(woven + 2);
  expect(wrong).toBeLessThan(deinterlaced - 2);
});

test('an interlaced PAL DVD (MPEG-2, bottom field first) is deinterlaced as its pictures say', () => {
  // 50p woven into 25i bottom field first, coded as a DVD codes it (field DCT and prediction,
  // each picture's coding extension saying its first field): the truth for frame n is 50p 2n
  const input = join(OUT, 'dvd-bff.vob');
  ffmpeg([
    ...['-f', 'lavfi', '-i', 'testsrc2=size=720x576:rate=50', '-t', '0.4'],
    ...['-vf', 'tinterlace=interleave_bottom,setfield=bff', '-c:v', 'mpeg2video', '-q:v', '2'],
    ...['-flags', '+ilme+ildct', '-top', '0', '-bf', '2', '-aspect', '4:3', '-f', 'vob', input],
  ]);
  const auto = join(OUT, 'dvd-bff.auto.mp4');
  const r = enhance(input, auto, '--model', 'none');
  expect(r.status, r.stderr).toBe(0);
  expect(r.stdout).toContain('warning: This video may be interlaced');
  const frames = videoFacts(input).frames;
  expect(videoFacts(auto).frames).toBe(frames);
  const top = join(OUT, 'dvd-bff.top.mp4');
  expect(enhance(input, top, '--model', 'none', '--deinterlace', 'top').status).toBe(0);
  const truth = join(OUT, 'dvd-bff.truth.mkv');
  ffmpeg([
    ...['-f', 'lavfi', '-i', 'testsrc2=size=720x576:rate=50'],
    ...['-vf', "select='not(mod(n\\,2))',setpts=N/(25*TB),format=yuv420p"],
    ...['-frames:v', String(frames), '-c:v', 'ffv1', truth],
  ]);
  const [deinterlaced, woven, wrong] = [psnr(auto, truth), psnr(input, truth), psnr(top, truth)];
  test.info().annotations.push({
    type: 'PSNR against the progressive pictures',
    description: `deinterlaced ${deinterlaced.toFixed(2)} dB, woven ${woven.toFixed(2)} dB, taken as top field first ${wrong.toFixed(2)} dB`,
  });
  expect(deinterlaced).toBeGreaterThan(woven + 2);
  expect(wrong).toBeLessThan(deinterlaced - 2);
});

test('a stream that allows fields is deinterlaced picture by picture, as it marks them: progressive pictures pass untouched', async ({
  page,
}) => {
  // identical frames make identical files (same encoder, same settings): a PSNR of inf between
  // two renders means the same frames went into both
  const same = (a: string, b: string, frames: string): number => {
    const part = `trim=${frames},setpts=N/(25*TB)`;
    const r = spawnSync('ffmpeg', [
      ...['-hide_banner', '-i', a, '-i', b, '-lavfi'],
      ...[`[0:v]${part}[a];[1:v]${part}[b];[a][b]psnr`, '-f', 'null', '-'],
    ]);
    const m = /average:([0-9.]+|inf)/.exec(r.stderr.toString());
    if (!m) throw new Error(`ffmpeg psnr failed: ${r.stderr.toString().slice(-400)}`);
    return m[1] === 'inf' ? Infinity : Number(m[1]);
  };
  // (the command's work in this test's browser: its --deinterlace and --frames flags are the
  // settings below, and its "warning:" lines the render's warnings)
  const warnings: Record<string, boolean> = {};
  const render = async (
    name: FixtureName,
    label: string,
    patch: Partial<JobSettings> = {},
  ): Promise<string> => {
    const out = join(OUT, `${name}.${label}.mp4`);
    const made = await enhanceInPage(page, fixturePath(name), out, patch);
    warnings[`${name} ${label}`] = made.warnings.some((w) =>
      w.startsWith('This video may be interlaced'),
    );
    return out;
  };
  // progressive frames in a stream that allows fields (as Blu-ray stores 1080p25): by default
  // they go through as they are, as with deinterlacing off
  const fake = [
    await render('fake-interlaced.mp4', 'auto'),
    await render('fake-interlaced.mp4', 'off', { deinterlace: false }),
  ];
  expect(same(fake[0]!, fake[1]!, 'start_frame=0')).toBe(Infinity);
  // a recording that switches from interlaced to progressive pictures: the first 8 frames are
  // deinterlaced as with deinterlacing on, the last 8 left as with it off
  const mixed = await render('mixed-fields.ts', 'auto');
  const on = await render('mixed-fields.ts', 'on', { deinterlace: true });
  const tail = await render('mixed-fields.ts', 'tail', { frameRange: { start: 8, end: 16 } });
  const tailOff = await render('mixed-fields.ts', 'tail-off', {
    frameRange: { start: 8, end: 16 },
    deinterlace: false,
  });
  expect(same(mixed, on, 'end_frame=8')).toBe(Infinity);
  expect(same(tail, tailOff, 'start_frame=0')).toBe(Infinity);
  // and deinterlacing did change the frames where it ran
  const off = await render('mixed-fields.ts', 'off', { deinterlace: false });
  expect(same(mixed, off, 'end_frame=8')).toBeLessThan(40);
  // "may be interlaced" is said where a rendered picture is marked as fields, not otherwise
  expect(warnings).toMatchObject({
    'fake-interlaced.mp4 auto': false,
    'mixed-fields.ts auto': true,
    'mixed-fields.ts tail': false,
  });
});

test('with a model, the frames are deinterlaced before it: the render agrees with the deinterlaced picture, not the woven one', () => {
  const input = fixturePath('interlaced-small.mp4');
  const enhanced = join(OUT, 'interlaced-small.x2.mp4');
  const deinterlaced = join(OUT, 'interlaced-small.none.mp4');
  const r = enhance(input, enhanced, '--model', 'esrgan-slim-x2', '--backend', 'wasm');
  expect(r.status, r.stderr).toBe(0);
  expect(enhance(input, deinterlaced, '--model', 'none').status).toBe(0);
  const facts = videoFacts(enhanced);
  expect([facts.frames, facts.width, facts.height]).toEqual([videoFacts(input).frames, 320, 192]);
  // brought back to the source's size, the enhanced frames are nearer the frames deinterlaced
  // without a model (the same rule on YUV instead of RGB) than the woven ones (left woven, the
  // enhanced frames are about 1.8 dB nearer the woven ones here; deinterlaced, 1.2 dB further)
  const down = { width: 160, height: 96, flags: 'area' };
  const [toDeinterlaced, toWoven] = [
    psnr(enhanced, deinterlaced, down),
    psnr(enhanced, input, down),
  ];
  test.info().annotations.push({
    type: 'PSNR of the enhanced frames, at the source size',
    description: `to the deinterlaced frames ${toDeinterlaced.toFixed(2)} dB, to the woven ones ${toWoven.toFixed(2)} dB`,
  });
  expect(toDeinterlaced).toBeGreaterThan(toWoven + 0.5);
});
