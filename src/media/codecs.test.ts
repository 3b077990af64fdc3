import { describe, expect, it } from 'vitest';
import { leftOutNote, videoCodecName } from './codecs.ts';

describe('codec names as people know them', () => {
  it('names what a refusal has to name', () => {
    expect(videoCodecName('avc1.64001f')).toBe('H.264');
    expect(videoCodecName('mp4v.20.9')).toBe('MPEG-4 Part 2 (Xvid/DivX)');
    expect(videoCodecName('jpeg')).toBe('Motion JPEG');
    expect(videoCodecName('dvh1.05.06')).toBe('Dolby Vision HEVC');
    expect(videoCodecName('wxyz')).toBe('wxyz');
    // Matroska CodecIDs mediabunny does not know (mkv-tracks.ts matroskaVideoCodec)
    expect(videoCodecName('mjpeg')).toBe('Motion JPEG');
    expect(videoCodecName('V_MPEG2')).toBe('MPEG-2');
    expect(videoCodecName('V_MPEG4/ISO/ASP')).toBe('MPEG-4 Part 2 (Xvid/DivX)');
    expect(videoCodecName('V_MS/VFW/FOURCC/DIV3')).toBe('MS MPEG-4 (DivX 3)');
    expect(videoCodecName('V_MS/VFW/FOURCC/FFV1')).toBe('FFV1');
    expect(videoCodecName('V_MS/VFW/FOURCC/cvid')).toBe("'cvid'");
    expect(videoCodecName('V_SOMETHING')).toBe('V_SOMETHING');
  });

  it('names the tracks a render leaves out', () => {
    expect(leftOutNote({ subtitle: 0, video: 0, other: 0 })).toBeNull();
    expect(leftOutNote({ subtitle: 2, video: 0, other: 1 })).toBe(
      'Left out of the enhanced file: 2 subtitle tracks and a timecode, menu or data track.',
    );
    expect(leftOutNote({ audio: 1, subtitle: 1, video: 0, other: 0 })).toBe(
      'Left out of the enhanced file: an audio track in a format Upframe cannot read and a ' +
        'subtitle track.',
    );
  });
});
