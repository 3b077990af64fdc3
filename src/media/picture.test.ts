import { openAsBlob } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureMediaFixtures, fixturePath } from '../../test/media-fixtures.ts';
import { avcCAspect, INTERLACED_NOTE } from './h264-sps.ts';
import { openInput } from './input.ts';
import { displayAspect, pixelAspectOfShownSize } from './pixel-aspect.ts';
import { probe } from './probe.ts';

beforeAll(() => {
  ensureMediaFixtures();
}, 120_000);

describe('pixel aspect', () => {
  it('recovers the ratio behind a shown size rounded to whole pixels', () => {
    // 352 x 40/33 = 426.67 and 1408 x 40/33 = 1706.67: Matroska and mediabunny keep 427, 1707
    expect(pixelAspectOfShownSize(352, 240, 427, 240)).toEqual([40, 33]);
    expect(pixelAspectOfShownSize(1408, 960, 1707, 960)).toEqual([40, 33]);
    // exact ratios stay exact: PAL 16:9, HDV, NTSC 4:3 DV
    expect(pixelAspectOfShownSize(720, 576, 1024, 576)).toEqual([64, 45]);
    expect(pixelAspectOfShownSize(1440, 1080, 1920, 1080)).toEqual([4, 3]);
    expect(pixelAspectOfShownSize(720, 480, 640, 480)).toEqual([8, 9]);
    // an unusual ratio is kept as it is; square is null
    expect(pixelAspectOfShownSize(100, 100, 137, 100)).toEqual([137, 100]);
    expect(pixelAspectOfShownSize(720, 480, 720, 480)).toBeNull();
  });

  it('gives mediabunny the shown size that writes the ratio back', () => {
    const { displayAspectWidth: w, displayAspectHeight: h } = displayAspect(1408, 960, [40, 33]);
    expect([w, h]).toEqual([16, 9]);
    // mediabunny's pasp is (w x codedHeight) : (h x codedWidth)
    expect((w * 960) / (h * 1408)).toBeCloseTo(40 / 33, 12);
  });

  it('reads it from MP4 (pasp), Matroska (display size) and the H.264 SPS', async () => {
    for (const name of ['anamorphic.mp4', 'anamorphic.mkv'] as const) {
      const input = await openInput(await openAsBlob(fixturePath(name)));
      expect(input.video!.pixelAspect, name).toEqual([40, 33]);
      const sps = avcCAspect(new Uint8Array(input.video!.decoderConfig.description as ArrayBuffer));
      expect(sps, name).toEqual([40, 33]);
      input.close();
    }
    const square = await openInput(await openAsBlob(fixturePath('h264-aac.mp4')));
    expect(square.video!.pixelAspect).toBeNull();
    square.close();
    // the summary shows the picture's shape: 352 x 40/33 wide
    const summary = await probe(await openAsBlob(fixturePath('anamorphic.mp4')), {
      allowUndecodable: true,
    });
    expect([summary.video.displayWidth, summary.video.displayHeight]).toEqual([427, 240]);
  });
});

describe('interlaced H.264', () => {
  it('gets a note that says what will happen and what to do; progressive clips do not', async () => {
    for (const [name, interlaced] of [
      ['interlaced.mp4', true],
      ['h264-aac.mp4', false],
      ['h264-aac.mkv', false],
      ['anamorphic.mp4', false],
    ] as const) {
      const summary = await probe(await openAsBlob(fixturePath(name)), { allowUndecodable: true });
      expect(summary.warnings.includes(INTERLACED_NOTE), name).toBe(interlaced);
    }
  });
});
