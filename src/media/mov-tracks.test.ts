import { execFileSync } from 'node:child_process';
import { openAsBlob } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureMediaFixtures, fixturePath, type FixtureName } from '../../test/media-fixtures.ts';
import { openInput } from './input.ts';
import { parsePcmEntry, pcmPackets, PCM_PACKET_FRAMES } from './mov-tracks.ts';

beforeAll(() => {
  ensureMediaFixtures();
}, 120_000);

const blob = (name: FixtureName): Promise<Blob> => openAsBlob(fixturePath(name));

/** The audio samples as ffmpeg decodes them, in the given raw layout. */
function ffmpegRaw(name: FixtureName, format: string): Uint8Array {
  return execFileSync(
    'ffmpeg',
    ['-v', 'error', '-i', fixturePath(name), '-map', '0:a', '-f', format, '-'],
    { maxBuffer: 1 << 28 },
  );
}

async function copiedAudio(name: FixtureName) {
  const input = await openInput(await blob(name));
  const chunks: Uint8Array[] = [];
  const times: number[] = [];
  for await (const p of input.read('audio')) {
    chunks.push(p.data);
    times.push(p.timestampUs);
  }
  const bytes = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) {
    bytes.set(c, at);
    at += c.length;
  }
  const audio = input.audio!;
  input.close();
  return { audio, bytes, times };
}

describe('PCM audio in MOV', () => {
  const cases: [FixtureName, string, string, number, number][] = [
    // fixture, codec, ffmpeg's raw format for the same bytes, channels, rate
    ['pcm-s16.mov', 'pcm-s16', 's16le', 2, 48000],
    ['pcm-s24.mov', 'pcm-s24', 's24le', 1, 48000],
    ['pcm-96k.mov', 'pcm-s24', 's24le', 1, 96000],
  ];
  for (const [name, codec, raw, channels, rate] of cases) {
    it(`${name}: every byte of the track, in packets of ${PCM_PACKET_FRAMES} frames`, async () => {
      const { audio, bytes, times } = await copiedAudio(name);
      expect([audio.codec, audio.channels, audio.sampleRate]).toEqual([codec, channels, rate]);
      // byte for byte what ffmpeg decodes (PCM decoding is a copy): 2 s of audio
      const expected = ffmpegRaw(name, raw);
      expect(bytes.length).toBe(expected.length);
      expect(bytes.length).toBe(((2 * rate * channels * (codec === 'pcm-s16' ? 16 : 24)) / 8) | 0);
      expect(Buffer.compare(Buffer.from(bytes), expected)).toBe(0);
      // packet k starts at frame k * 1024
      times.forEach((t, k) => expect(t).toBe(Math.round(((k * PCM_PACKET_FRAMES) / rate) * 1e6)));
    });
  }

  it('copies what fits an MP4 and names what does not', async () => {
    expect((await copiedAudio('pcm-s16.mov')).audio.muxCodec).toBe('pcm-s16');
    expect((await copiedAudio('pcm-s24.mov')).audio.muxCodec).toBe('pcm-s24');
    const hi = (await copiedAudio('pcm-96k.mov')).audio;
    expect(hi.muxCodec).toBeNull();
    expect(hi.codecName).toBe('PCM (24-bit, 96 kHz)');
  });

  it('AAC in a QuickTime version 1 description keeps its AudioSpecificConfig', async () => {
    const input = await openInput(await blob('aac.mov'));
    const audio = input.audio!;
    input.close();
    expect(audio.muxCodec).toBe('aac');
    const asc = new Uint8Array(audio.decoderConfig.description as ArrayBuffer);
    // AAC LC (object type 2), 48 kHz (index 3), mono
    expect([asc[0]! >> 3, ((asc[0]! & 7) << 1) | (asc[1]! >> 7), (asc[1]! >> 3) & 15]).toEqual([
      2, 3, 1,
    ]);
  });

  it('ProRes is named as what it is, not as a file without video', async () => {
    await expect(openInput(await blob('prores.mov'))).resolves.toMatchObject({
      video: { codec: 'apcn', codecName: 'Apple ProRes 422' },
    });
  });
});

describe('pcmPackets', () => {
  it('cuts chunks by the stsc runs, splits them, and stops at the sample count', () => {
    const p = pcmPackets(
      // chunks 1-2 hold 3000 frames each, chunks 3-4 hold 500; the count ends inside chunk 4
      {
        firstChunk: [1, 3],
        samplesPerChunk: [3000, 500],
        chunkOffsets: [100, 50_000, 90_000, 120_000],
        sampleCount: 3000 + 3000 + 500 + 200,
      },
      { bytesPerFrame: 4, framesPerSample: 1 },
      1024,
    );
    expect(Array.from(p.frames)).toEqual([1024, 1024, 952, 1024, 1024, 952, 500, 200]);
    expect(Array.from(p.firstFrame)).toEqual([0, 1024, 2048, 3000, 4024, 5048, 6000, 6500]);
    expect(Array.from(p.offsets)).toEqual([
      100,
      100 + 4096,
      100 + 8192,
      50_000,
      50_000 + 4096,
      50_000 + 8192,
      90_000,
      120_000,
    ]);
    expect(Array.from(p.sizes)).toEqual(Array.from(p.frames, (f) => f * 4));
  });
});

describe('parsePcmEntry', () => {
  /** A version 0 sound description of `type` with `channels` and `bits` at 44.1 kHz. */
  function v0(type: string, channels: number, bits: number): Uint8Array {
    const b = new Uint8Array(36);
    const v = new DataView(b.buffer);
    v.setUint32(0, 36);
    b.set(
      [...type].map((c) => c.charCodeAt(0)),
      4,
    );
    v.setUint16(24, channels);
    v.setUint16(26, bits);
    v.setUint32(32, 44100 * 65536);
    return b;
  }
  it('reads the byte order from the type', () => {
    expect(parsePcmEntry(v0('sowt', 2, 16))).toMatchObject({
      codec: 'pcm-s16',
      channels: 2,
      sampleRate: 44100,
      bytesPerFrame: 4,
    });
    expect(parsePcmEntry(v0('twos', 6, 16))).toMatchObject({
      codec: 'pcm-s16be',
      bytesPerFrame: 12,
    });
    // in24 without an enda box is big-endian
    expect(parsePcmEntry(v0('in24', 2, 16))).toMatchObject({
      codec: 'pcm-s24be',
      bytesPerFrame: 6,
    });
    expect(parsePcmEntry(v0('ulaw', 1, 8))?.codec).toBe('ulaw');
  });
  it('refuses what is not a PCM description', () => {
    expect(parsePcmEntry(v0('mp4a', 2, 16))).toBeNull();
    expect(parsePcmEntry(v0('sowt', 0, 16))).toBeNull();
    expect(parsePcmEntry(v0('sowt', 2, 12))).toBeNull();
    expect(parsePcmEntry(new Uint8Array(20))).toBeNull();
  });
});
