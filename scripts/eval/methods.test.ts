import { describe, expect, it } from 'vitest';
import { evalMethods, type MethodOptions } from './methods.ts';

const ESRGAN = ['slim', 'medium', 'thick'].flatMap((s) => [`esrgan-${s}-x2`, `esrgan-${s}-x4`]);

function options(extra: Partial<MethodOptions> = {}): MethodOptions {
  return {
    thick: false,
    builtinPacks: new Set([...ESRGAN, 'upframe-lite-x4']),
    dloral: { url: '/tiny-dloral/', scale: 4 },
    ...extra,
  };
}

const names = (list: readonly { name: string }[]) => list.map((m) => m.name);

describe('evalMethods', () => {
  it('runs the x4 methods of the eval before x2 existed, in the same order', () => {
    const { run, skipped } = evalMethods(4, options());
    expect(names(run)).toEqual([
      'esrgan-slim-x4',
      'esrgan-slim-x4 + temporal fusion',
      'esrgan-medium-x4',
      'esrgan-medium-x4 + temporal fusion',
      'upframe-lite-x4',
      'upframe-lite-x4, CFR off',
      'tiny-dloral (random weights)',
    ]);
    expect(run.map((m) => [m.pipeline, m.temporal])).toEqual([
      ['sr', null],
      ['app', true],
      ['sr', null],
      ['app', true],
      ['app', true],
      ['app', false],
      ['app', null],
    ]);
    expect(names(skipped)).toEqual(['esrgan-thick-x4']);
  });

  it('runs the x2 packs at x2, skips an absent upframe-lite-x2 and leaves tiny-dloral out', () => {
    const { run, skipped } = evalMethods(2, options());
    expect(names(run)).toEqual([
      'esrgan-slim-x2',
      'esrgan-slim-x2 + temporal fusion',
      'esrgan-medium-x2',
      'esrgan-medium-x2 + temporal fusion',
    ]);
    expect(run.map((m) => m.pack)).toEqual(
      ['slim', 'slim', 'medium', 'medium'].map((s) => ({
        type: 'builtin',
        name: `esrgan-${s}-x2`,
      })),
    );
    expect(skipped.map((s) => [s.name, s.note])).toEqual([
      ['upframe-lite-x2', 'skipped: no built-in pack of that name in models/packs/index.json'],
      ['esrgan-thick-x2', 'not run (about 13x slower than medium at x4; add --thick)'],
    ]);
  });

  it('runs upframe-lite-x2 with CFR on and off once the index has it', () => {
    const { run, skipped } = evalMethods(
      2,
      options({ builtinPacks: new Set([...ESRGAN, 'upframe-lite-x4', 'upframe-lite-x2']) }),
    );
    const lite = run.filter((m) => m.name.startsWith('upframe-lite'));
    expect(lite.map((m) => [m.name, m.pack, m.pipeline, m.temporal])).toEqual([
      ['upframe-lite-x2', { type: 'builtin', name: 'upframe-lite-x2' }, 'app', true],
      ['upframe-lite-x2, CFR off', { type: 'builtin', name: 'upframe-lite-x2' }, 'app', false],
    ]);
    expect(names(skipped)).toEqual(['esrgan-thick-x2']);
  });

  it('tells a stale build from a pack that does not exist', () => {
    const { skipped } = evalMethods(
      2,
      options({ sourcePacks: new Set([...ESRGAN, 'upframe-lite-x4', 'upframe-lite-x2']) }),
    );
    expect(skipped[0]?.note).toMatch(/not in the built app/);
  });

  it('runs thick at the asked scale only with --thick', () => {
    const { run, skipped } = evalMethods(2, options({ thick: true }));
    expect(names(run)).toContain('esrgan-thick-x2');
    expect(names(run)).toContain('esrgan-thick-x2 + temporal fusion');
    expect(names(run).some((n) => n.includes('x4'))).toBe(false);
    expect(names(skipped)).toEqual(['upframe-lite-x2']);
  });

  it('notes an unbuilt tiny-dloral at x4 only', () => {
    expect(names(evalMethods(4, options({ dloral: null })).skipped)).toEqual([
      'esrgan-thick-x4',
      'tiny-dloral',
    ]);
    expect(names(evalMethods(2, options({ dloral: null })).skipped)).not.toContain('tiny-dloral');
  });
});
