import type { CompareSlice, ComparedFrame } from '../state/store.ts';

/**
 * Draws one compared frame. Both images are laid out at the enhanced frame's size: the original
 * is scaled up by the browser's smooth filter (what a player would show), the enhanced frame as
 * is. At zoom > 1 both are drawn nearest-neighbour so every pixel shown is a real pixel.
 * `pixelAspect` (a pixel's width over its height) stretches both as a player shows non-square
 * pixels (DVD, DV, HDV).
 */
export function drawCompare(
  ctx: CanvasRenderingContext2D,
  frame: ComparedFrame | null,
  view: Pick<CompareSlice, 'mode' | 'split' | 'zoom' | 'panX' | 'panY'>,
  dpr: number,
  pixelAspect = 1,
): void {
  const { width, height } = ctx.canvas;
  ctx.clearRect(0, 0, width, height);
  if (!frame) return;
  const { after } = frame;
  const panes = view.mode === 'side-by-side' ? 2 : 1;
  const paneWidth = width / panes;
  const shownWidth = after.width * pixelAspect;
  const fit = Math.min(paneWidth / shownWidth, height / after.height);
  const scale = fit * view.zoom;
  const drawW = shownWidth * scale;
  const drawH = after.height * scale;
  const smoothOriginal = view.zoom <= 1;
  for (let pane = 0; pane < panes; pane++) {
    const x0 = pane * paneWidth;
    const left = x0 + (paneWidth - drawW) / 2 + view.panX * dpr;
    const top = (height - drawH) / 2 + view.panY * dpr;
    ctx.save();
    ctx.beginPath();
    ctx.rect(x0, 0, paneWidth, height);
    ctx.clip();
    if (view.mode === 'side-by-side') {
      ctx.imageSmoothingEnabled = pane === 0 ? smoothOriginal : false;
      ctx.drawImage(pane === 0 ? frame.beforeScaled : after, left, top, drawW, drawH);
    } else {
      const divider = view.split * width;
      ctx.save();
      ctx.beginPath();
      ctx.rect(0, 0, divider, height);
      ctx.clip();
      ctx.imageSmoothingEnabled = smoothOriginal;
      ctx.drawImage(frame.beforeScaled, left, top, drawW, drawH);
      ctx.restore();
      ctx.save();
      ctx.beginPath();
      ctx.rect(divider, 0, width - divider, height);
      ctx.clip();
      ctx.imageSmoothingEnabled = false;
      ctx.drawImage(after, left, top, drawW, drawH);
      ctx.restore();
      ctx.fillStyle = 'rgba(255,255,255,0.9)';
      ctx.fillRect(Math.round(divider) - dpr, 0, 2 * dpr, height);
    }
    ctx.restore();
  }
}
