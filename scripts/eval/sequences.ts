/**
 * Colour clips with a known motion, rendered from real photographs: the ground truth for
 * `npm run eval`. Frame t shows the photo through a similarity P_t (pan: P_t moves; zoom: P_t
 * scales about the frame centre), optionally with a disk textured by a second photo moving over it.
 * Each pixel is the mean of 2 x 2 bilinear samples (mild, identical blur in every frame whatever
 * the motion). Besides the frames, the backward flow of each frame t >= 1 (where each pixel sits
 * in frame t - 1) and its validity (inside frame t - 1 and not hidden by the disk) are exact.
 * Same convention as scripts/eval-flow/scenes.ts (previous(m(x)) = current(x)), in colour and over
 * whole clips.
 */
import type { BackwardFlow, RgbFrame } from './metrics.ts';

export interface Photo {
  readonly width: number;
  readonly height: number;
  /** Interleaved RGB, float 0..255. */
  readonly data: Float32Array;
}

/** Photo coordinates of frame pixel (x, y) at frame t: p = centre + s_t (x - frameCentre) + o_t. */
export interface Camera {
  scale(t: number): number;
  offset(t: number): [number, number];
}

export interface MovingDisk {
  readonly photo: Photo;
  readonly radius: number;
  /** Disk centre in frame pixels at frame t. */
  centre(t: number): [number, number];
}

export interface SequenceSpec {
  readonly name: string;
  readonly description: string;
  readonly width: number;
  readonly height: number;
  readonly frames: number;
  readonly photo: Photo;
  readonly camera: Camera;
  readonly disk?: MovingDisk;
}

export interface Sequence {
  readonly spec: SequenceSpec;
  readonly frames: RgbFrame[];
  /** flows[t] for t >= 1; flows[0] is unused (all invalid). */
  readonly flows: BackwardFlow[];
}

function sample(photo: Photo, x: number, y: number, out: Float64Array): void {
  const { width: w, height: h, data } = photo;
  const cx = Math.min(Math.max(x, 0), w - 1);
  const cy = Math.min(Math.max(y, 0), h - 1);
  const x0 = Math.floor(cx);
  const y0 = Math.floor(cy);
  const x1 = Math.min(x0 + 1, w - 1);
  const y1 = Math.min(y0 + 1, h - 1);
  const tx = cx - x0;
  const ty = cy - y0;
  for (let c = 0; c < 3; c++) {
    const top = data[(y0 * w + x0) * 3 + c]! * (1 - tx) + data[(y0 * w + x1) * 3 + c]! * tx;
    const bottom = data[(y1 * w + x0) * 3 + c]! * (1 - tx) + data[(y1 * w + x1) * 3 + c]! * tx;
    out[c] = out[c]! + (top * (1 - ty) + bottom * ty) / 4;
  }
}

export function renderSequence(spec: SequenceSpec): Sequence {
  const { width: w, height: h, photo, camera, disk } = spec;
  const fc: [number, number] = [(w - 1) / 2, (h - 1) / 2];
  const pc: [number, number] = [(photo.width - 1) / 2, (photo.height - 1) / 2];
  const toPhoto = (t: number, x: number, y: number): [number, number] => {
    const s = camera.scale(t);
    const [ox, oy] = camera.offset(t);
    return [pc[0] + s * (x - fc[0]) + ox, pc[1] + s * (y - fc[1]) + oy];
  };
  const fromPhoto = (t: number, px: number, py: number): [number, number] => {
    const s = camera.scale(t);
    const [ox, oy] = camera.offset(t);
    return [fc[0] + (px - pc[0] - ox) / s, fc[1] + (py - pc[1] - oy) / s];
  };
  const onDisk = (t: number, x: number, y: number): boolean => {
    if (!disk) return false;
    const [cx, cy] = disk.centre(t);
    return (x - cx) ** 2 + (y - cy) ** 2 <= disk.radius ** 2;
  };
  const frames: RgbFrame[] = [];
  const flows: BackwardFlow[] = [];
  const acc = new Float64Array(3);
  for (let t = 0; t < spec.frames; t++) {
    const data = new Uint8Array(w * h * 3);
    const match = new Float32Array(2 * w * h);
    const valid = new Uint8Array(w * h);
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        acc.fill(0);
        for (const [dx, dy] of [
          [-0.25, -0.25],
          [0.25, -0.25],
          [-0.25, 0.25],
          [0.25, 0.25],
        ] as const) {
          const sx = x + dx;
          const sy = y + dy;
          if (disk && onDisk(t, sx, sy)) {
            const [cx, cy] = disk.centre(t);
            sample(
              disk.photo,
              sx - cx + (disk.photo.width - 1) / 2,
              sy - cy + (disk.photo.height - 1) / 2,
              acc,
            );
          } else {
            const [px, py] = toPhoto(t, sx, sy);
            sample(photo, px, py, acc);
          }
        }
        const i = y * w + x;
        for (let c = 0; c < 3; c++)
          data[i * 3 + c] = Math.round(Math.min(255, Math.max(0, acc[c]!)));
        if (t === 0) continue;
        let mx: number;
        let my: number;
        const object = onDisk(t, x, y);
        if (object && disk) {
          const [cx, cy] = disk.centre(t);
          const [qx, qy] = disk.centre(t - 1);
          [mx, my] = [x - cx + qx, y - cy + qy];
        } else {
          const [px, py] = toPhoto(t, x, y);
          [mx, my] = fromPhoto(t - 1, px, py);
        }
        match[i] = mx;
        match[w * h + i] = my;
        // a pixel's own-surface match must be in frame t-1 and, for the background, not under
        // the disk there; disk edges (mixed samples) are left out too
        const inside = mx >= 0 && my >= 0 && mx <= w - 1 && my <= h - 1;
        const edge =
          disk !== undefined &&
          Math.abs(Math.hypot(x - disk.centre(t)[0], y - disk.centre(t)[1]) - disk.radius) < 1.5;
        const hidden = !object && onDisk(t - 1, mx, my);
        const edgeBefore =
          disk !== undefined &&
          Math.abs(
            Math.hypot(mx - disk.centre(t - 1)[0], my - disk.centre(t - 1)[1]) - disk.radius,
          ) < 1.5;
        valid[i] = inside && !edge && !edgeBefore && !hidden ? 1 : 0;
      }
    }
    frames.push({ width: w, height: h, data });
    flows.push({ width: w, height: h, match, valid });
  }
  return { spec, frames, flows };
}
