import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { D4_ALL, d4Filters, d4Name, d4Undo } from './d4.ts';
import type { RgbFrame } from './metrics.ts';

/** A 7x4 picture whose every byte differs, so any misplaced pixel or channel shows. */
function picture(): RgbFrame {
  const width = 7;
  const height = 4;
  return { width, height, data: Uint8Array.from({ length: width * height * 3 }, (_, i) => i * 3) };
}

function ffmpegTransform(frame: RgbFrame, filters: string[]): RgbFrame {
  const out = execFileSync(
    'ffmpeg',
    [
      ...['-v', 'error', '-f', 'rawvideo', '-pix_fmt', 'rgb24'],
      ...['-s', `${frame.width}x${frame.height}`, '-i', 'pipe:0'],
      ...['-vf', filters.join(',') || 'null', '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1'],
    ],
    { input: Buffer.from(frame.data) },
  );
  const turned = filters.includes('transpose=0');
  return {
    width: turned ? frame.height : frame.width,
    height: turned ? frame.width : frame.height,
    data: new Uint8Array(out),
  };
}

describe('D4 transforms', () => {
  it('are eight different pictures, each undone exactly after ffmpeg made it', () => {
    const source = picture();
    const seen = new Set<string>();
    for (const t of D4_ALL) {
      const made = ffmpegTransform(source, d4Filters(t));
      seen.add(Buffer.from(made.data).toString('hex'));
      const back = d4Undo(made, t);
      expect([d4Name(t), back.width, back.height]).toEqual([d4Name(t), 7, 4]);
      expect(Buffer.from(back.data).equals(Buffer.from(source.data)), d4Name(t)).toBe(true);
    }
    expect(seen.size).toBe(8);
    expect(D4_ALL.map(d4Name)).toEqual(['id', 'h', 'v', 'hv', 't', 'th', 'tv', 'thv']);
  });
});
