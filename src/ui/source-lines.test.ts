import { describe, expect, it } from 'vitest';
import { audioLine, subtitleLine } from './source-lines.ts';

describe('the source panel lines', () => {
  const audio = {
    codecName: 'AAC',
    channels: 2,
    sampleRate: 48000,
    copyable: true,
    label: null,
    others: [] as string[],
  };

  it('says audio is kept only where it is copied', () => {
    expect(audioLine(audio)).toBe('AAC, 2 ch, 48000 Hz (kept as is)');
    // a dashcam's sound no output holds, decoded to PCM as it is read
    expect(audioLine({ ...audio, codecName: 'IMA ADPCM', channels: 1, keptAs: '16-bit PCM' })).toBe(
      'IMA ADPCM, 1 ch, 48000 Hz (kept as 16-bit PCM)',
    );
    expect(audioLine({ ...audio, label: 'eng', others: ['fra, AC-3'] })).toBe(
      'AAC, 2 ch, 48000 Hz (eng), and another track: fra, AC-3 (kept as they are)',
    );
    // DTS, MP3 in AVI, 8-bit PCM: the render leaves it out (a warning says so), so does this line
    expect(audioLine({ ...audio, codecName: 'DTS', channels: 6, copyable: false })).toBe(
      'DTS, 6 ch, 48000 Hz (left out: Upframe cannot copy this format)',
    );
    expect(
      audioLine({ ...audio, codecName: 'DTS', copyable: false, others: ['AAC', 'AC-3'] }),
    ).toBe(
      'DTS, 2 ch, 48000 Hz (left out: Upframe cannot copy this format), and 2 more tracks: AAC; AC-3',
    );
  });

  it('says what becomes of subtitles', () => {
    expect(subtitleLine(['eng', ''], true, true)).toBe(
      '2 tracks: eng, no language given (kept, as SRT in MKV)',
    );
    expect(subtitleLine(['eng'], false, true)).toBe(
      "a track: eng (left out: MKV cannot store this clip's rotation)",
    );
  });
});
