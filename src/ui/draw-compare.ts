import type { CompareSlice, ComparedFrame } from '../state/store.ts';

/**
 * Draws one compared frame. Both images are laid out at the enhanced frame's size: the original
 * is scaled up by the browser's smooth filter (what a player would show), the enhanced frame as
 * is. At zoom > 1 both are drawn nearest-neighbour so every pixel shown is a real pixel.
 * `shape` is how a player shows the picture: non-square pixels stretched by `pixelAspect` (a
 * pixel's width over its height: DVD, DV, HDV) and the container's clockwise `rotation` (phones
 * filming upright store landscape frames and 90).
 */
export function drawCompare(
  ctx: CanvasRenderingContext2D,
  frame: ComparedFrame | null,
  view: Pick<CompareSlice, 'mode' | 'split' | 'zoom' | 'panX' | 'panY'>,
  dpr: number,
  shape: { readonly pixelAspect: number; readonly rotation: number } = {
    pixelAspect: 1,
    rotation: 0,
  },
): void {
  const { width, height } = ctx.canvas;
  ctx.clearRect(0, 0, width, height);
  if (!frame) return;
  const { after } = frame;
  const panes = view.mode === 'side-by-side' ? 2 : 1;
  const paneWidth = width / panes;
  // the picture before rotation, with its pixels at their shape; then as shown
  const pictureW = after.width * shape.pixelAspect;
  const pictureH = after.height;
  const turned = shape.rotation === 90 || shape.rotation === 270;
  const shownW = turned ? pictureH : pictureW;
  const shownH = turned ? pictureW : pictureH;
  const fit = Math.min(paneWidth / shownW, height / shownH);
  const scale = fit * view.zoom;
  const drawW = shownW * scale;
  const drawH = shownH * scale;
  const smoothOriginal = view.zoom <= 1;
  for (let pane = 0; pane < panes; pane++) {
    const x0 = pane * paneWidth;
    const left = x0 + (paneWidth - drawW) / 2 + view.panX * dpr;
    const top = (height - drawH) / 2 + view.panY * dpr;
    const draw = (image: CanvasImageSource): void => {
      ctx.save();
      ctx.translate(left + drawW / 2, top + drawH / 2);
      if (shape.rotation) ctx.rotate((shape.rotation * Math.PI) / 180);
      const [w, h] = [pictureW * scale, pictureH * scale];
      ctx.drawImage(image, -w / 2, -h / 2, w, h);
      ctx.restore();
    };
    ctx.save();
    ctx.beginPath();
    ctx.rect(x0, 0, paneWidth, height);
    ctx.clip();
    if (view.mode === 'side-by-side') {
      ctx.imageSmoothingEnabled = pane === 0 ? smoothOriginal : false;
      draw(pane === 0 ? frame.beforeScaled : after);
    } else {
      const divider = view.split * width;
      ctx.save();
      ctx.beginPath();
      ctx.rect(0, 0, divider, height);
      ctx.clip();
      ctx.imageSmoothingEnabled = smoothOriginal;
      draw(frame.beforeScaled);
      ctx.restore();
      ctx.save();
      ctx.beginPath();
      ctx.rect(divider, 0, width - divider, height);
      ctx.clip();
      ctx.imageSmoothingEnabled = false;
      draw(after);
      ctx.restore();
      ctx.fillStyle = 'rgba(255,255,255,0.9)';
      ctx.fillRect(Math.round(divider) - dpr, 0, 2 * dpr, height);
    }
    ctx.restore();
  }
}
