import { describe, expect, it } from 'vitest';
import { PacketTable } from './packet-table.ts';
import { audioLeftOutNote, chooseContainer, firstPacketAt, preferredContainer } from './output.ts';

describe('the output file type', () => {
  it('is MP4 unless a track cannot go there, and an explicit type that cannot hold them is refused', () => {
    expect(chooseContainer(undefined, 'vp9', 'opus')).toBe('mp4');
    expect(chooseContainer(undefined, 'avc', 'pcm-u8')).toBe('mkv');
    expect(chooseContainer('webm', 'av1', null)).toBe('webm');
    // Vorbis in MP4 has no standard mapping: MKV, or WebM for VP9
    expect(chooseContainer(undefined, 'avc', 'vorbis')).toBe('mkv');
    expect(preferredContainer('vp9', 'vorbis', 0)).toBe('webm');
    expect(() => chooseContainer('mp4', 'avc', 'vorbis')).toThrow(
      'An MP4 file cannot hold H.264 video with Vorbis audio: choose MKV (a .mkv file) instead.',
    );
    expect(() => chooseContainer('webm', 'vp9', 'aac')).toThrow(
      'A WebM file cannot hold VP9 video with AAC audio: choose MKV (a .mkv file) instead.',
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

  it('holds every audio track where one file type can; else the first, and says what is left out', () => {
    // a film's AAC with a Vorbis commentary: MKV holds both (MP4 does not play Vorbis)
    expect(chooseContainer(undefined, 'avc', 'aac', ['vorbis'])).toBe('mkv');
    expect(chooseContainer(undefined, 'avc', 'aac', ['ac3', 'aac'])).toBe('mp4');
    // WebM for VP9 only when it holds them all
    expect(preferredContainer('vp9', 'opus', 0, ['opus'])).toBe('webm');
    expect(preferredContainer('vp9', 'opus', 0, ['aac'])).toBe('mp4');
    // asked for MP4: it holds the first track, so it is kept, and the other is left out, said
    expect(chooseContainer('mp4', 'avc', 'aac', ['vorbis'])).toBe('mp4');
    const tracks = [
      { codecName: 'AAC', muxCodec: 'aac' },
      { codecName: 'Vorbis', muxCodec: 'vorbis' },
    ];
    expect(audioLeftOutNote(tracks, 'mkv')).toBeNull();
    expect(audioLeftOutNote(tracks, 'mp4')).toBe(
      'The Vorbis audio track cannot be copied into MP4 and was left out; the other audio track is kept.',
    );
    expect(audioLeftOutNote([{ codecName: 'DTS', muxCodec: null }], 'mp4')).toBe(
      'The DTS audio cannot be copied and was left out.',
    );
    expect(audioLeftOutNote([...tracks, { codecName: 'DTS', muxCodec: null }], 'mp4')).toBe(
      '2 of the 3 audio tracks (Vorbis and DTS) cannot be copied into MP4 and were left out.',
    );
  });

  it("a range's audio is read from just before its start, not from the file's", () => {
    // AAC packets of 21.333 ms from -21.333 ms (the priming packet)
    const table = PacketTable.ofLength(1000);
    for (let k = 0; k < 1000; k++) {
      table.set(k, {
        timestampUs: Math.round((k - 1) * 21333.3),
        durationUs: 21333,
        key: true,
        byteLength: 9,
      });
    }
    expect(firstPacketAt(table, -Infinity)).toBe(0);
    expect(firstPacketAt(table, 0)).toBe(0);
    // 10 s in: packet 469 starts at 9.984 s, 470 at 10.005 s; the one before the first after
    expect(firstPacketAt(table, 10_000_000)).toBe(469);
    expect(firstPacketAt(table, 1e12)).toBe(999);
  });
});
