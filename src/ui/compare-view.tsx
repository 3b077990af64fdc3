import { useEffect, useId, useRef, useState, type KeyboardEvent, type PointerEvent } from 'react';
import { useShallow } from 'zustand/react/shallow';
import { setCompareMode, setSplit, setZoom, panBy, stepFrame } from '../state/actions.ts';
import { jobSettings, outputKey } from '../state/job-actions.ts';
import { useStore } from '../state/store.ts';
import { drawCompare } from './draw-compare.ts';

/**
 * The before/after scrubber: a canvas showing the original (smoothly scaled to the output size)
 * and the enhanced frame, split by a draggable divider or side by side, with synchronized zoom
 * and pan. Keyboard (said under the viewer): arrows, Page Up/Down, Home and End move the divider;
 * zoomed, Shift+arrows move the picture; + and - zoom, 0 fits; [ and ] step frames.
 */
export function CompareView() {
  const canvasRef = useRef<HTMLCanvasElement>(null);
  const [size, setSize] = useState({ width: 0, height: 0 });
  const { compare, current, count, index, pixelAspect, rotation, rendering } = useStore(
    useShallow((s) => ({
      rendering: s.job.phase === 'running',
      pixelAspect: s.source.summary?.video.pixelAspect ?? null,
      rotation: s.source.summary?.video.rotation ?? 0,
      compare: s.compare,
      current: s.compare.frames[s.compare.index] ?? null,
      count: s.compare.frames.length,
      index: s.compare.index,
    })),
  );
  const keysId = useId();
  const picture = current
    ? `Frame ${current.frameIndex + 1}, ${current.after.width}×${current.after.height}`
    : 'No frames yet';
  const drag = useRef<{ mode: 'divider' | 'pan'; x: number; y: number } | null>(null);
  const settingsKey = useStore((s) =>
    s.source.summary ? outputKey(jobSettings(s.settings, s.source.summary.video.frameCount)) : null,
  );
  const stale = current?.madeWith != null && current.madeWith !== settingsKey;
  // what the empty viewer is waiting for, so it is never a blank board without a word
  const stageNote = useStore((s) => {
    if (!s.source.file) return 'Drop a clip on the page, or pick one, to compare it here.';
    if (s.source.probing) return 'Reading the clip…';
    if (!s.source.summary?.decodable) return null;
    if (s.job.phase === 'previewing') {
      return `Enhancing frame ${s.settings.previewFrame} for a first look…`;
    }
    if (s.job.phase === 'running' || s.job.phase === 'paused') {
      return 'The first enhanced frame shows here as soon as it is made.';
    }
    return `Press “Preview frame” to see frame ${s.settings.previewFrame} before and after.`;
  });

  useEffect(() => {
    const canvas = canvasRef.current;
    if (!canvas) return;
    const observer = new ResizeObserver(([entry]) => {
      if (!entry) return;
      const box = entry.contentRect;
      setSize({ width: Math.round(box.width), height: Math.round(box.height) });
    });
    observer.observe(canvas);
    return () => observer.disconnect();
  }, []);

  useEffect(() => {
    const canvas = canvasRef.current;
    if (!canvas || size.width === 0) return;
    const dpr = window.devicePixelRatio || 1;
    canvas.width = Math.round(size.width * dpr);
    canvas.height = Math.round(size.height * dpr);
    const ctx = canvas.getContext('2d');
    if (!ctx) return;
    drawCompare(ctx, current, compare, dpr, {
      pixelAspect: pixelAspect ? pixelAspect[0] / pixelAspect[1] : 1,
      rotation,
    });
  }, [current, compare, size, pixelAspect, rotation]);

  const fraction = (event: PointerEvent) => {
    const rect = event.currentTarget.getBoundingClientRect();
    return (event.clientX - rect.left) / rect.width;
  };

  const onPointerDown = (event: PointerEvent<HTMLCanvasElement>) => {
    event.currentTarget.setPointerCapture(event.pointerId);
    const nearDivider =
      compare.mode === 'split' &&
      Math.abs(fraction(event) - compare.split) * event.currentTarget.clientWidth < 24;
    const mode = nearDivider || compare.zoom <= 1 ? 'divider' : 'pan';
    drag.current = { mode, x: event.clientX, y: event.clientY };
    if (mode === 'divider' && compare.mode === 'split') setSplit(fraction(event));
  };
  const onPointerMove = (event: PointerEvent<HTMLCanvasElement>) => {
    const d = drag.current;
    if (!d) return;
    if (d.mode === 'divider') {
      if (compare.mode === 'split') setSplit(fraction(event));
    } else {
      panBy(event.clientX - d.x, event.clientY - d.y);
      d.x = event.clientX;
      d.y = event.clientY;
    }
  };
  const onPointerUp = () => {
    drag.current = null;
  };
  const split = compare.mode === 'split';
  const onKeyDown = (event: KeyboardEvent) => {
    // zoomed, Shift+arrows (or, side by side, any arrow) move the picture
    const pan = compare.zoom > 1 && (event.shiftKey || !split) ? 40 : 0;
    const step = event.shiftKey ? 0.1 : 0.02;
    const divider = (to: number) => () => {
      if (split) setSplit(to);
    };
    const handled = {
      ArrowLeft: pan ? () => panBy(pan, 0) : divider(compare.split - step),
      ArrowRight: pan ? () => panBy(-pan, 0) : divider(compare.split + step),
      ArrowUp: pan ? () => panBy(0, pan) : divider(compare.split + step),
      ArrowDown: pan ? () => panBy(0, -pan) : divider(compare.split - step),
      PageUp: divider(compare.split + 0.1),
      PageDown: divider(compare.split - 0.1),
      Home: divider(0),
      End: divider(1),
      '+': () => setZoom(compare.zoom * 2),
      '=': () => setZoom(compare.zoom * 2),
      '-': () => setZoom(compare.zoom / 2),
      '0': () => setZoom(1),
      '[': () => stepFrame(-1),
      ']': () => stepFrame(1),
    }[event.key];
    if (handled) {
      event.preventDefault();
      handled();
    }
  };

  return (
    <section className="panel compare" aria-labelledby={`${keysId}-title`}>
      <h2 id={`${keysId}-title`} className="visually-hidden">
        Before and after
      </h2>
      <div className="compare-toolbar">
        <div role="group" aria-label="Comparison layout" className="segmented">
          <button
            type="button"
            aria-pressed={compare.mode === 'split'}
            onClick={() => setCompareMode('split')}
          >
            Split
          </button>
          <button
            type="button"
            aria-pressed={compare.mode === 'side-by-side'}
            onClick={() => setCompareMode('side-by-side')}
          >
            Side by side
          </button>
        </div>
        <div role="group" aria-label="Zoom" className="segmented">
          <button
            type="button"
            onClick={() => setZoom(compare.zoom / 2)}
            // aria-disabled, not disabled: a focused button that disables itself keeps focus
            aria-disabled={compare.zoom <= 1}
            aria-label="Zoom out"
          >
            −
          </button>
          <span className="zoom-level" data-testid="zoom-level" aria-live="polite">
            {compare.zoom === 1 ? 'Fit' : `${compare.zoom}×`}
          </span>
          <button type="button" onClick={() => setZoom(compare.zoom * 2)} aria-label="Zoom in">
            +
          </button>
        </div>
        <div role="group" aria-label="Frames" className="segmented">
          <button
            type="button"
            onClick={() => stepFrame(-1)}
            aria-disabled={index <= 0}
            aria-label="Previous frame"
          >
            ‹
          </button>
          {/* announced as a person steps, not as a render adds each frame */}
          <span data-testid="frame-position" aria-live={rendering ? 'off' : 'polite'}>
            {count === 0 ? 'No frames yet' : `Frame ${(current?.frameIndex ?? 0) + 1}`}
          </span>
          <button
            type="button"
            onClick={() => stepFrame(1)}
            aria-disabled={index >= count - 1}
            aria-label="Next frame"
          >
            ›
          </button>
        </div>
      </div>
      <div className="compare-stage">
        <canvas
          ref={canvasRef}
          className="compare-canvas"
          // unzoomed, a vertical swipe scrolls the page (the divider moves sideways); zoomed,
          // every direction pans the picture
          style={{ touchAction: compare.zoom > 1 ? 'none' : 'pan-y' }}
          data-testid="compare-canvas"
          tabIndex={0}
          aria-describedby={keysId}
          {...(split
            ? {
                role: 'slider',
                'aria-label': `${picture}: divider between original (left) and enhanced (right)`,
                'aria-valuemin': 0,
                'aria-valuemax': 100,
                'aria-valuenow': Math.round(compare.split * 100),
                'aria-valuetext': `${Math.round(compare.split * 100)}% original`,
              }
            : { role: 'img', 'aria-label': `${picture}: original (left) and enhanced (right)` })}
          onPointerDown={onPointerDown}
          onPointerMove={onPointerMove}
          onPointerUp={onPointerUp}
          onPointerCancel={onPointerUp}
          onKeyDown={onKeyDown}
          onWheel={(event) => setZoom(event.deltaY < 0 ? compare.zoom * 2 : compare.zoom / 2)}
        />
        {count === 0 && stageNote ? (
          <p className="stage-note" data-testid="stage-note" role="status">
            {stageNote}
          </p>
        ) : null}
      </div>
      {count > 1 ? (
        <input
          type="range"
          className="timeline"
          aria-label="Processed frames"
          aria-valuetext={
            current ? `Frame ${current.frameIndex + 1} (${index + 1} of ${count} shown)` : undefined
          }
          min={0}
          max={count - 1}
          value={index}
          onChange={(event) => stepFrame(Number(event.currentTarget.value) - index)}
        />
      ) : null}
      {stale ? (
        <p className="hint warning" data-testid="stale-note" role="status">
          This frame was enhanced with other settings: press Preview frame to see it with the
          current ones.
        </p>
      ) : null}
      <p className="hint legend">
        <span>Original</span>
        <span>Enhanced</span>
      </p>
      <p className="hint keys" id={keysId}>
        Keys on the picture: {split ? '← → move the divider · ' : ''}+ − zoom · 0 fit ·{' '}
        {split ? 'Shift+arrows' : 'arrows'} move a zoomed picture · [ ] previous and next frame
      </p>
    </section>
  );
}
