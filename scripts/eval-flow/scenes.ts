/**
 * Synthetic frame pairs with a known flow, rendered from real photographs.
 *
 * Every scene is a map m from a pixel x of the CURRENT frame to where that point sits in the
 * PREVIOUS frame, so the true flow is m(x) - x and previous(m(x)) = current(x) (the backward-warp
 * convention of src/kernels/flow). Frames are rendered from a photo decoded at twice the frame
 * resolution, with 2 x 2 supersampled bilinear lookups, so both frames of a pair see the same
 * (mild) resampling blur whatever the motion.
 */

export interface Photo {
  /** Grey levels in [0, 1] at twice the frame resolution plus a margin on each side. */
  readonly data: Float32Array;
  readonly width: number;
  readonly height: number;
}

export interface Scene {
  readonly name: string;
  /** Previous-frame position m(x, y) of current pixel (x, y); `inverse` is m^-1. */
  motion(x: number, y: number): [number, number];
  inverse(x: number, y: number): [number, number];
}

export interface RenderedPair {
  readonly current: Float32Array<ArrayBuffer>;
  readonly previous: Float32Array<ArrayBuffer>;
  /** [2, H, W] true flow. */
  readonly truth: Float32Array<ArrayBuffer>;
  /** 1 where the true flow is visible in both frames (not occluded, not off the frame). */
  readonly valid: Uint8Array<ArrayBuffer>;
}

/** Frame pixels of margin around the frame that the photo covers, so motion never runs off it. */
export const PHOTO_MARGIN = 32;

function samplePhoto(photo: Photo, u: number, v: number): number {
  // frame coordinate (u, v) -> photo pixel at 2x resolution, offset by the margin
  const x = Math.min(Math.max(2 * (u + PHOTO_MARGIN + 0.5) - 0.5, 0), photo.width - 1);
  const y = Math.min(Math.max(2 * (v + PHOTO_MARGIN + 0.5) - 0.5, 0), photo.height - 1);
  const x0 = Math.floor(x);
  const y0 = Math.floor(y);
  const x1 = Math.min(x0 + 1, photo.width - 1);
  const y1 = Math.min(y0 + 1, photo.height - 1);
  const tx = x - x0;
  const ty = y - y0;
  const d = photo.data;
  const top = d[y0 * photo.width + x0]! * (1 - tx) + d[y0 * photo.width + x1]! * tx;
  const bottom = d[y1 * photo.width + x0]! * (1 - tx) + d[y1 * photo.width + x1]! * tx;
  return top * (1 - ty) + bottom * ty;
}

/** 2 x 2 supersampled value of `photo` seen through `warp` at frame pixel (x, y). */
function render(
  photo: Photo,
  x: number,
  y: number,
  warp: (x: number, y: number) => [number, number],
): number {
  let acc = 0;
  for (const [ox, oy] of [
    [-0.25, -0.25],
    [0.25, -0.25],
    [-0.25, 0.25],
    [0.25, 0.25],
  ] as const) {
    const [u, v] = warp(x + ox, y + oy);
    acc += samplePhoto(photo, u, v);
  }
  return acc / 4;
}

/** Rounded to 8 bits, as video frames are (and as DIS needs). */
function quantize(v: number): number {
  return Math.round(Math.min(Math.max(v, 0), 1) * 255) / 255;
}

export function affineScene(
  name: string,
  a: [number, number, number, number],
  t: [number, number],
  centre: [number, number],
): Scene {
  const [a00, a01, a10, a11] = a;
  const det = a00 * a11 - a01 * a10;
  return {
    name,
    motion(x, y) {
      const [dx, dy] = [x - centre[0], y - centre[1]];
      return [centre[0] + a00 * dx + a01 * dy + t[0], centre[1] + a10 * dx + a11 * dy + t[1]];
    },
    inverse(x, y) {
      const [dx, dy] = [x - centre[0] - t[0], y - centre[1] - t[1]];
      return [centre[0] + (a11 * dx - a01 * dy) / det, centre[1] + (-a10 * dx + a00 * dy) / det];
    },
  };
}

/** Renders background motion only. */
export function renderScene(photo: Photo, scene: Scene, w: number, h: number): RenderedPair {
  const plane = w * h;
  const current = new Float32Array(plane);
  const previous = new Float32Array(plane);
  const truth = new Float32Array(2 * plane);
  const valid = new Uint8Array(plane);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const i = y * w + x;
      current[i] = quantize(render(photo, x, y, (u, v) => [u, v]));
      previous[i] = quantize(render(photo, x, y, (u, v) => scene.inverse(u, v)));
      const [mx, my] = scene.motion(x, y);
      truth[i] = mx - x;
      truth[plane + i] = my - y;
      valid[i] = mx >= 0 && my >= 0 && mx <= w - 1 && my <= h - 1 ? 1 : 0;
    }
  }
  return { current, previous, truth, valid };
}

/**
 * A disk of `object` (radius r, centred at `centre` in the current frame) moving by `objectShift`
 * over `background` moving by `backgroundShift`. Background pixels hidden by the disk in the
 * previous frame are marked invalid (their flow is not observable).
 */
export function renderMovingObject(
  background: Photo,
  object: Photo,
  w: number,
  h: number,
  backgroundShift: [number, number],
  objectShift: [number, number],
  centre: [number, number],
  radius: number,
): RenderedPair {
  const plane = w * h;
  const current = new Float32Array(plane);
  const previous = new Float32Array(plane);
  const truth = new Float32Array(2 * plane);
  const valid = new Uint8Array(plane);
  const inDisk = (x: number, y: number, c: [number, number]): boolean =>
    (x - c[0]) ** 2 + (y - c[1]) ** 2 <= radius * radius;
  const prevCentre: [number, number] = [centre[0] + objectShift[0], centre[1] + objectShift[1]];
  // the object's texture is glued to the disk: object photo coordinates = pixel - disk centre
  const objectAt =
    (c: [number, number]) =>
    (u: number, v: number): [number, number] => [u - c[0] + w / 2, v - c[1] + h / 2];
  const bgPrev = (u: number, v: number): [number, number] => [
    u - backgroundShift[0],
    v - backgroundShift[1],
  ];
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const i = y * w + x;
      const onObject = inDisk(x, y, centre);
      current[i] = quantize(
        onObject
          ? render(object, x, y, objectAt(centre))
          : render(background, x, y, (u, v) => [u, v]),
      );
      previous[i] = quantize(
        inDisk(x, y, prevCentre)
          ? render(object, x, y, objectAt(prevCentre))
          : render(background, x, y, bgPrev),
      );
      const [dx, dy] = onObject ? objectShift : backgroundShift;
      truth[i] = dx;
      truth[plane + i] = dy;
      const [mx, my] = [x + dx, y + dy];
      const hidden = !onObject && inDisk(mx, my, prevCentre);
      valid[i] = !hidden && mx >= 0 && my >= 0 && mx <= w - 1 && my <= h - 1 ? 1 : 0;
    }
  }
  return { current, previous, truth, valid };
}
