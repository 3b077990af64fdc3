import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureMediaFixtures, fixturePath, type FixtureName } from '../../test/media-fixtures.ts';

// A damaged file must end in frames or in an error a person can read, never in a reader that
// spins for good: mediabunny 1.61's Matroska resync did so whenever it searched to the end of a
// file, until scripts/patch-deps.mjs mended it: copy 0 of both Matroska files below hung it, and
// so did random copy 154 of vp9-opus.webm.
beforeAll(() => {
  ensureMediaFixtures();
}, 60_000);

const CHILD = join(import.meta.dirname, '..', '..', 'test', 'open-damaged.ts');
/** What a damaged file may end in: the codes openInput and the readers give for it. */
const CODES = new Set(['CORRUPT_INPUT', 'NO_VIDEO_TRACK', 'UNSUPPORTED_CONTAINER', 'EMPTY_FILE']);

interface Outcome {
  seed: number;
  frames?: number;
  code?: string;
  message?: string;
}

function openDamaged(name: FixtureName, first: number, count: number): Outcome[] {
  const run = spawnSync(
    process.execPath,
    ['--import', 'tsx', CHILD, fixturePath(name), String(first), String(count)],
    { encoding: 'utf8', timeout: 60_000, killSignal: 'SIGKILL' },
  );
  const lines = run.stdout
    .split('\n')
    .filter((line) => line.startsWith('{"seed"'))
    .map((line) => JSON.parse(line) as Outcome);
  const ended = lines.filter((o) => Object.keys(o).length > 1);
  if (run.status !== 0 || ended.length !== count) {
    const last = lines.at(-1);
    throw new Error(
      `${name}: the reader did not finish damaged copy ${last?.seed ?? first} ` +
        `(${run.signal ? `killed by ${run.signal} after 60 s` : `exit ${run.status}`}): ` +
        run.stderr.slice(-500),
    );
  }
  return ended;
}

describe('damaged files', () => {
  for (const name of [
    'vp9-opus.webm',
    'unsized-clusters.webm',
    'h264-aac.mkv',
    'h264-aac.mp4',
    'h264-aac.ts',
    'avchd.m2ts',
    'dvd.vob',
    'mpeg2-mp2.mpg',
  ] as const) {
    it(`${name}: 200 damaged copies each end in frames or in a known error, none hangs`, () => {
      const outcomes = openDamaged(name, 0, 200);
      for (const o of outcomes) {
        if (o.code === undefined) continue;
        expect(CODES, `copy ${o.seed}: ${o.code} ${o.message}`).toContain(o.code);
        expect(o.message!.length, `copy ${o.seed}`).toBeGreaterThan(20);
        // a video file whose track list is damaged is not called a file without video
        if (o.code === 'NO_VIDEO_TRACK') {
          expect(o.message, `copy ${o.seed}`).toMatch(/may be damaged|sound but no picture/);
        }
      }
      // the damage is real: some copies fail, and some still give frames
      expect(outcomes.some((o) => o.code !== undefined)).toBe(true);
      expect(outcomes.some((o) => (o.frames ?? 0) > 0)).toBe(true);
    }, 90_000);
  }
});
