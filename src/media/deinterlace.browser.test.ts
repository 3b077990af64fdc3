import { describe, expect, it } from 'vitest';
import { Deinterlacer, componentsOf, deinterlaceComponent } from './deinterlace.ts';

const W = 64;
const H = 48;

/** I420 bytes of a frame whose two fields are from different moments (a bar moving right). */
function i420(n: number, codedHeight = H): Uint8Array<ArrayBuffer> {
  const cw = W / 2;
  const ch = codedHeight / 2;
  const bytes = new Uint8Array(W * codedHeight + 2 * cw * ch);
  for (let y = 0; y < codedHeight; y++) {
    const bar = 10 + 6 * n + (y % 2) * 3;
    for (let x = 0; x < W; x++) bytes[y * W + x] = x >= bar && x < bar + 8 ? 230 : 40 + x;
  }
  for (let y = 0; y < ch; y++)
    for (let x = 0; x < cw; x++) {
      bytes[W * codedHeight + y * cw + x] = 100 + ((x + y) % 5); // U
      bytes[W * codedHeight + cw * ch + y * cw + x] = x > 10 + 3 * n + (y % 2) ? 200 : 60; // V
    }
  return bytes;
}

/** What the deinterlacer must give for I420 `cur` after `prev`: the CPU function, plane by plane. */
function reference(cur: Uint8Array, prev: Uint8Array | null): Uint8Array {
  const layout = [
    { offset: 0, stride: W },
    { offset: W * H, stride: W / 2 },
    { offset: W * H + (W / 2) * (H / 2), stride: W / 2 },
  ];
  const out = cur.slice();
  for (const c of componentsOf('I420', layout, W, H)!) deinterlaceComponent(cur, prev, out, c);
  return out;
}

async function bytesOf(frame: VideoFrame): Promise<Uint8Array> {
  const out = new Uint8Array(frame.allocationSize());
  await frame.copyTo(out);
  return out;
}

describe('Deinterlacer on VideoFrames', () => {
  it('gives new I420 frames with the source times, size, shape and colour, field by field', async () => {
    const d = new Deinterlacer();
    const colorSpace = { primaries: 'bt709', transfer: 'bt709', matrix: 'bt709', fullRange: false };
    const outs: Uint8Array[] = [];
    for (let n = 0; n < 3; n++) {
      const frame = new VideoFrame(i420(n), {
        format: 'I420',
        codedWidth: W,
        codedHeight: H,
        timestamp: 40_000 * n,
        duration: 40_000,
        displayWidth: 2 * W, // pixels twice as wide as tall
        displayHeight: H,
        colorSpace: colorSpace as VideoColorSpaceInit,
      });
      const out = await d.process(frame);
      expect(out).not.toBe(frame);
      expect([out.format, out.codedWidth, out.codedHeight]).toEqual(['I420', W, H]);
      expect([out.timestamp, out.duration]).toEqual([40_000 * n, 40_000]);
      expect([out.displayWidth, out.displayHeight]).toEqual([2 * W, H]);
      expect(out.colorSpace.toJSON()).toEqual(colorSpace);
      outs.push(await bytesOf(out));
      out.close();
      frame.close();
    }
    expect(outs[0]).toEqual(reference(i420(0), null));
    expect(outs[1]).toEqual(reference(i420(1), i420(0)));
    expect(outs[2]).toEqual(reference(i420(2), i420(1)));
    // it did something: the combed bar's odd rows moved
    expect(outs[2]).not.toEqual(i420(2));
    // after reset the next frame has no previous one
    d.reset();
    const again = new VideoFrame(i420(2), {
      format: 'I420',
      codedWidth: W,
      codedHeight: H,
      timestamp: 0,
    });
    const out = await d.process(again);
    expect(await bytesOf(out)).toEqual(reference(i420(2), null));
    out.close();
    again.close();
  });

  it('takes each picture as the stream says: a progressive one passes and is still the previous frame; fields in their own order', async () => {
    const d = new Deinterlacer('top-first');
    const frame = (n: number) =>
      new VideoFrame(i420(n), { format: 'I420', codedWidth: W, codedHeight: H, timestamp: n });
    const pictures = [null, 'progressive', 'bottom-first'] as const;
    const outs: Uint8Array[] = [];
    for (const [n, picture] of pictures.entries()) {
      const f = frame(n);
      const out = await d.process(f, picture);
      outs.push(await bytesOf(out));
      out.close();
      f.close();
    }
    expect(outs[0]).toEqual(reference(i420(0), null));
    expect(outs[1]).toEqual(i420(1));
    // bottom first, with the progressive frame as the one before
    const layout = [
      { offset: 0, stride: W },
      { offset: W * H, stride: W / 2 },
      { offset: W * H + (W / 2) * (H / 2), stride: W / 2 },
    ];
    const want = i420(2).slice();
    for (const c of componentsOf('I420', layout, W, H)!) {
      deinterlaceComponent(i420(2), i420(1), want, c, true);
    }
    expect(outs[2]).toEqual(want);
    expect(outs[2]).not.toEqual(reference(i420(2), i420(1)));
  });

  it('reads only the visible rectangle of a frame coded larger (1080 of 1088 rows)', async () => {
    const d = new Deinterlacer();
    const frame = new VideoFrame(i420(1, H + 8), {
      format: 'I420',
      codedWidth: W,
      codedHeight: H + 8,
      visibleRect: { x: 0, y: 0, width: W, height: H },
      timestamp: 0,
    });
    const out = await d.process(frame);
    expect([out.codedWidth, out.codedHeight, out.displayHeight]).toEqual([W, H, H]);
    const luma = (await bytesOf(out)).subarray(0, W * H);
    expect(luma).toEqual(reference(i420(1), null).subarray(0, W * H));
    out.close();
    frame.close();
  });

  it('keeps the two chroma components of NV12 apart', async () => {
    const d = new Deinterlacer();
    const nv12 = (n: number) => {
      const src = i420(n);
      const bytes = new Uint8Array(W * H * 1.5);
      bytes.set(src.subarray(0, W * H));
      const q = (W / 2) * (H / 2);
      for (let k = 0; k < q; k++) {
        bytes[W * H + 2 * k] = src[W * H + k]!;
        bytes[W * H + 2 * k + 1] = src[W * H + q + k]!;
      }
      return new VideoFrame(bytes, { format: 'NV12', codedWidth: W, codedHeight: H, timestamp: n });
    };
    let out: VideoFrame | null = null;
    for (let n = 0; n < 2; n++) {
      const frame = nv12(n);
      out?.close();
      out = await d.process(frame);
      frame.close();
    }
    const bytes = await bytesOf(out!);
    out!.close();
    const ref = reference(i420(1), i420(0));
    const q = (W / 2) * (H / 2);
    expect(bytes.subarray(0, W * H)).toEqual(ref.subarray(0, W * H));
    for (let k = 0; k < q; k++) {
      expect(bytes[W * H + 2 * k]).toBe(ref[W * H + k]);
      expect(bytes[W * H + 2 * k + 1]).toBe(ref[W * H + q + k]);
    }
  });
});
