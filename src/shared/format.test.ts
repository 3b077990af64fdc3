import { describe, expect, it } from 'vitest';
import {
  formatBytes,
  formatDuration,
  formatPartOf,
  formatRoughly,
  languageName,
} from './format.ts';
import { toErrorInfo, UpframeError } from './errors.ts';

describe('formatBytes', () => {
  it('uses binary units with sensible precision', () => {
    expect(formatBytes(0)).toBe('0 B');
    expect(formatBytes(1023)).toBe('1023 B');
    expect(formatBytes(1536)).toBe('1.50 KiB');
    expect(formatBytes(10 * 1024 * 1024 + 1)).toBe('10.0 MiB');
    expect(formatBytes(3 * 1024 ** 3)).toBe('3.00 GiB');
    expect(formatBytes(-1)).toBe('?');
  });
});

describe('formatDuration', () => {
  it('formats minutes and hours', () => {
    expect(formatDuration(5)).toBe('0:05');
    expect(formatDuration(65.4)).toBe('1:05');
    expect(formatDuration(7325)).toBe('2:02:05');
  });
  it('says a rough time in words, from seconds to days, rounded down', () => {
    expect(formatRoughly(0.27)).toBe('0.2 s');
    expect(formatRoughly(9.99)).toBe('9.9 s');
    expect(formatRoughly(40.7)).toBe('40 s');
    expect(formatRoughly(89.9)).toBe('89 s');
    expect(formatRoughly(90)).toBe('1 min');
    expect(formatRoughly(839)).toBe('13 min');
    expect(formatRoughly(89 * 60 + 59)).toBe('89 min');
    expect(formatRoughly(3 * 3600 + 5 * 60 + 50)).toBe('3 h 5 min');
    expect(formatRoughly(2 * 3600)).toBe('2 h');
    expect(formatRoughly(47 * 3600)).toBe('47 h');
    expect(formatRoughly(23 * 86400 + 80000)).toBe('23 days');
    expect(formatRoughly(Number.NaN)).toBe('?');
  });
  it('shows a part of a short clip to a tenth of a second', () => {
    expect(formatPartOf(1.75, 2.008)).toBe('1.8 s of 2.0 s');
    expect(formatPartOf(760, 5400)).toBe('12:40 of 1:30:00');
  });
});

describe('languageName', () => {
  it('names a track language as people say it, the code where it has no name', () => {
    // terminological and bibliographic ISO 639-2 codes alike (MKV and MP4 write either)
    expect(['fra', 'fre', 'deu', 'ger', 'eng', 'jpn'].map(languageName)).toEqual([
      'French',
      'French',
      'German',
      'German',
      'English',
      'Japanese',
    ]);
    expect(languageName('qaa')).toBe('qaa'); // reserved for local use
    expect(languageName('not a code')).toBe('not a code');
  });
});

describe('toErrorInfo', () => {
  it('keeps the code of an UpframeError', () => {
    expect(toErrorInfo(new UpframeError('NO_VIDEO_TRACK', 'x'))).toEqual({
      code: 'NO_VIDEO_TRACK',
      message: 'x',
    });
  });
  it('keeps a code that crossed a structured clone', () => {
    const cloned = structuredClone({ code: 'DEVICE_LOST', message: 'lost' });
    expect(toErrorInfo(cloned)).toEqual({ code: 'DEVICE_LOST', message: 'lost' });
  });
  it('maps a quota error to DISK_FULL and unknowns to INTERNAL', () => {
    const quota = Object.assign(new Error('quota'), { name: 'QuotaExceededError' });
    expect(toErrorInfo(quota).code).toBe('DISK_FULL');
    expect(toErrorInfo('boom')).toEqual({ code: 'INTERNAL', message: 'boom' });
  });
});
