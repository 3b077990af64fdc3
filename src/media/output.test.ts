import { describe, expect, it } from 'vitest';
import { chooseContainer, preferredContainer } from './output.ts';

describe('the output file type', () => {
  it('is MP4 unless a track cannot go there, and an explicit type that cannot hold them is refused', () => {
    expect(chooseContainer(undefined, 'vp9', 'opus')).toBe('mp4');
    expect(chooseContainer(undefined, 'avc', 'pcm-u8')).toBe('mkv');
    expect(chooseContainer('webm', 'av1', null)).toBe('webm');
    // Vorbis in MP4 has no standard mapping: MKV, or WebM for VP9
    expect(chooseContainer(undefined, 'avc', 'vorbis')).toBe('mkv');
    expect(preferredContainer('vp9', 'vorbis', 0)).toBe('webm');
    expect(() => chooseContainer('mp4', 'avc', 'vorbis')).toThrow('choose MKV (a .mkv file)');
    expect(() => chooseContainer('webm', 'vp9', 'aac')).toThrow(
      'A WEBM file cannot hold VP9 video with AAC audio: choose MKV (a .mkv file) instead.',
    );
  });

  it('the page writes VP9 and AV1 as WebM where WebM holds the audio and needs no rotation', () => {
    expect(preferredContainer('vp9', 'opus', 0)).toBe('webm');
    expect(preferredContainer('av1', 'vorbis', 0)).toBe('webm');
    expect(preferredContainer('av1', null, 0)).toBe('webm');
    // AAC, or a rotation WebM cannot store: MP4, which holds both
    expect(preferredContainer('vp9', 'aac', 0)).toBe('mp4');
    expect(preferredContainer('vp9', 'opus', 90)).toBe('mp4');
    expect(preferredContainer('avc', 'opus', 0)).toBe('mp4');
    expect(preferredContainer('avc', null, 180)).toBe('mp4');
  });
});
