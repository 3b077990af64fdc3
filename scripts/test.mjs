#!/usr/bin/env node
// `npm test`: every check, in order — typecheck + lint + format, Node unit tests, WGSL kernel
// tests on Dawn-in-Node, the production build, browser tests in Chromium, Playwright end-to-end
// tests — then ONE summary line `N passed, N failed` covering all suites. Stages keep running
// after a failure so one run shows everything that is wrong.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)));
const REPORTS = join(ROOT, 'test-results', 'reports');
const CHROMIUM = process.env.UPFRAME_CHROMIUM ?? '/usr/bin/chromium';
const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';
/**
 * Debian packages the tests need: the browser, ffmpeg (fixtures are made at test time) and a few
 * real photographs (CC-BY wallpapers) for the test that degrades a photo and upscales it.
 */
const APT_PACKAGES = ['chromium', 'ffmpeg', 'lomiri-wallpapers-16.04'];
const PHOTO = '/usr/share/backgrounds/Wine_by_Jakkub_Mede.jpg';

const totals = { passed: 0, failed: 0, skipped: 0 };
const stageLines = [];

function has(command) {
  return spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0;
}

function ensureTools() {
  const missing = [];
  if (!existsSync(CHROMIUM)) missing.push('chromium');
  if (!has('ffmpeg') || !has('ffprobe')) missing.push('ffmpeg');
  if (!existsSync(PHOTO)) missing.push('lomiri-wallpapers-16.04');
  if (missing.length === 0) return;
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  if (!isRoot) {
    console.error(
      `npm test needs ${missing.join(' and ')}: run "sudo apt-get install -y ${APT_PACKAGES.join(' ')}" and try again.`,
    );
    process.exit(1);
  }
  console.log(`Installing ${missing.join(' and ')} with apt-get (needed by the browser tests)…`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const update = spawnSync('apt-get', ['update'], { stdio: 'inherit', env });
  const install = spawnSync(
    'apt-get',
    ['install', '-y', '--no-install-recommends', ...APT_PACKAGES],
    {
      stdio: 'inherit',
      env,
    },
  );
  if (update.status !== 0 || install.status !== 0 || !existsSync(CHROMIUM) || !has('ffmpeg')) {
    console.error(
      `apt-get could not install ${APT_PACKAGES.join(' ')}; install them by hand and rerun npm test.`,
    );
    process.exit(1);
  }
}

const BIN = join(ROOT, 'node_modules', '.bin');

function run(command, args, env = {}) {
  const started = Date.now();
  // local binaries directly: npx would add its own config warnings to the log
  const resolved = existsSync(join(BIN, command)) ? join(BIN, command) : command;
  const result = spawnSync(resolved, args, {
    cwd: ROOT,
    stdio: 'inherit',
    env: { ...process.env, FORCE_COLOR: '0', ...env },
  });
  return { status: result.status ?? 1, seconds: (Date.now() - started) / 1000 };
}

function record(stage, passed, failed, skipped, seconds) {
  totals.passed += passed;
  totals.failed += failed;
  totals.skipped += skipped;
  stageLines.push(
    `${stage.padEnd(10)} ${String(passed).padStart(4)} passed ${String(failed).padStart(3)} failed ${String(skipped).padStart(3)} skipped  ${seconds.toFixed(0)} s`,
  );
}

/** A stage that is one check: it passes or it fails. */
function single(stage, command, args, env) {
  console.log(`\n=== ${stage}: ${command} ${args.join(' ')}`);
  const { status, seconds } = run(command, args, env);
  record(stage, status === 0 ? 1 : 0, status === 0 ? 0 : 1, 0, seconds);
  return status === 0;
}

/**
 * Stages that are one check each, run at the same time (each is mostly one process on one core;
 * on 2 cores this saves about 10 s), their output printed whole and in order once they are done.
 */
async function singlesAtOnce(stages) {
  const runs = stages.map(([stage, command, args]) => {
    const started = Date.now();
    const resolved = existsSync(join(BIN, command)) ? join(BIN, command) : command;
    const child = spawn(resolved, args, {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, FORCE_COLOR: '0' },
    });
    const output = [];
    child.stdout.on('data', (chunk) => output.push(chunk));
    child.stderr.on('data', (chunk) => output.push(chunk));
    return new Promise((done) => {
      child.on('error', (err) => {
        output.push(Buffer.from(`${err.message}\n`));
        done({ stage, command, args, output, status: 1, seconds: (Date.now() - started) / 1000 });
      });
      child.on('close', (code) =>
        done({
          stage,
          command,
          args,
          output,
          status: code ?? 1,
          seconds: (Date.now() - started) / 1000,
        }),
      );
    });
  });
  for (const { stage, command, args, output, status, seconds } of await Promise.all(runs)) {
    console.log(`\n=== ${stage}: ${command} ${args.join(' ')}`);
    process.stdout.write(Buffer.concat(output));
    record(stage, status === 0 ? 1 : 0, status === 0 ? 0 : 1, 0, seconds);
  }
}

function vitestStage(stage, project, env = {}) {
  const report = join(REPORTS, `vitest-${project}.json`);
  rmSync(report, { force: true });
  console.log(`\n=== ${stage}: vitest --project ${project}`);
  const { status, seconds } = run(
    'vitest',
    [
      'run',
      '--project',
      project,
      '--reporter=default',
      '--reporter=json',
      `--outputFile.json=${report}`,
    ],
    env,
  );
  if (!existsSync(report)) {
    record(stage, 0, 1, 0, seconds);
    return;
  }
  const json = JSON.parse(readFileSync(report, 'utf8'));
  const failed = json.numFailedTests + (status !== 0 && json.numFailedTests === 0 ? 1 : 0);
  record(stage, json.numPassedTests, failed, json.numPendingTests + json.numTodoTests, seconds);
}

function playwrightStage(stage) {
  const report = join(REPORTS, 'playwright.json');
  rmSync(report, { force: true });
  console.log(`\n=== ${stage}: playwright test`);
  const { status, seconds } = run('playwright', ['test', '--reporter=list,json'], {
    PLAYWRIGHT_JSON_OUTPUT_NAME: report,
  });
  if (!existsSync(report)) {
    record(stage, 0, 1, 0, seconds);
    return;
  }
  const stats = JSON.parse(readFileSync(report, 'utf8')).stats;
  const failed = stats.unexpected + (status !== 0 && stats.unexpected === 0 ? 1 : 0);
  record(stage, stats.expected + stats.flaky, failed, stats.skipped, seconds);
}

ensureTools();
mkdirSync(REPORTS, { recursive: true });
const gpuEnv =
  existsSync(SWIFTSHADER_ICD) && !process.env.VK_ICD_FILENAMES
    ? { VK_ICD_FILENAMES: SWIFTSHADER_ICD }
    : {};

await singlesAtOnce([
  ['typecheck', 'tsc', ['-p', 'tsconfig.json', '--noEmit']],
  ['lint', 'eslint', ['.', '--max-warnings=0']],
  ['format', 'prettier', ['--check', '.']],
]);
vitestStage('unit', 'unit');
vitestStage('kernel', 'kernel', gpuEnv);
const built = single('build', 'node', ['scripts/build.mjs']);
vitestStage('browser', 'browser');
if (built) playwrightStage('e2e');
else record('e2e', 0, 1, 0, 0);

console.log('\n=== summary');
for (const line of stageLines) console.log(line);
const skipped = totals.skipped > 0 ? `, ${totals.skipped} skipped` : '';
console.log(`${totals.passed} passed, ${totals.failed} failed${skipped}`);
process.exit(totals.failed > 0 ? 1 : 0);
