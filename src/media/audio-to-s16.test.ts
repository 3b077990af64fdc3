import { execFileSync } from 'node:child_process';
import { mkdtempSync, openAsBlob } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { byteCodecToS16, imaSamplesPerBlock } from './audio-to-s16.ts';
import { openInput } from './input.ts';

const s16 = (bytes: Uint8Array): number[] =>
  Array.from(new Int16Array(bytes.buffer, bytes.byteOffset, bytes.length / 2));

describe('sound no output holds, as 16-bit PCM', () => {
  it('expands G.711 and 8-bit samples to their 16-bit values', () => {
    const all = (codec: string, bytes: number[]): number[] =>
      s16(byteCodecToS16(codec)!(Uint8Array.from(bytes)));
    // μ-law stores the code inverted: 0xff is silence, 0x00 the loudest negative
    expect(all('ulaw', [0xff, 0x7f, 0x00, 0x80, 0xef])).toEqual([0, 0, -32124, 32124, 132]);
    // A-law inverts every other bit: 0xd5 and 0x55 are the smallest steps either side of 0
    expect(all('alaw', [0xd5, 0x55, 0xaa, 0x2a])).toEqual([8, -8, 32256, -32256]);
    expect(all('pcm-u8', [0, 128, 255])).toEqual([-32768, 0, 32512]);
    expect(all('pcm-s8', [0x80, 0, 0x7f])).toEqual([-32768, 0, 32512]);
    expect(byteCodecToS16('pcm-s16')).toBeNull();
    // IMA ADPCM: a 4-byte header per channel, then two samples a byte
    expect(imaSamplesPerBlock(1024, 1)).toBe(2041);
    expect(imaSamplesPerBlock(2048, 2)).toBe(2041);
    expect(imaSamplesPerBlock(6, 2)).toBe(0);
  });

  it('reads a camera’s or security camera’s MOV and AVI sound as the samples ffmpeg decodes', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'upframe-s16-'));
    const cases = [
      ['mov', 'libx264', 'pcm_mulaw', 'μ-law'],
      ['mov', 'libx264', 'pcm_alaw', 'A-law'],
      ['mov', 'libx264', 'pcm_u8', 'PCM (8-bit)'],
      ['mov', 'libx264', 'pcm_s8', 'PCM (8-bit)'],
      ['avi', 'mjpeg', 'pcm_mulaw', 'μ-law'],
      ['avi', 'mjpeg', 'pcm_alaw', 'A-law'],
    ] as const;
    for (const [container, video, audio, name] of cases) {
      const path = join(dir, `${audio}.${container}`);
      execFileSync('ffmpeg', [
        ...['-v', 'error', '-f', 'lavfi', '-i', 'testsrc2=size=64x36:rate=25'],
        ...['-f', 'lavfi', '-i', 'sine=frequency=300:sample_rate=8000', '-t', '0.5'],
        ...['-c:v', video, '-c:a', audio, '-ac', '2', path],
      ]);
      const input = await openInput(await openAsBlob(path));
      const a = input.audio!;
      expect([a.codec, a.muxCodec, a.codecName, a.keptAs, a.channels], path).toEqual([
        'pcm-s16',
        'pcm-s16',
        name,
        '16-bit PCM',
        2,
      ]);
      const parts: Uint8Array[] = [];
      for await (const s of input.read('audio')) {
        expect(s.data.length, path).toBe(s.byteLength);
        parts.push(s.data);
      }
      const decoded = execFileSync('ffmpeg', ['-v', 'error', '-i', path, '-f', 's16le', '-']);
      expect(decoded.length, path).toBe(16000);
      expect(Buffer.concat(parts).equals(decoded), path).toBe(true);
      input.close();
    }
  });
});
