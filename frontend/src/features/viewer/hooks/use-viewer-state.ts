import { type KeyboardEvent, type PointerEvent, useEffect, useRef, useState } from 'react';

import { DEFAULT_WINDOW, type WindowLevel } from '../utils/window-level';

type Offset = { x: number; y: number };

export const MIN_ZOOM = 1;
export const MAX_ZOOM = 8;
const ZOOM_STEP = 1.25;
const PAN_STEP_PX = 40;

const clampZoom = (zoom: number) => Math.min(MAX_ZOOM, Math.max(MIN_ZOOM, zoom));

/** Keep at least part of the image in view: the offset may not exceed what the zoom added. */
function clampOffset(offset: Offset, zoom: number, viewport: HTMLElement | null): Offset {
  const width = viewport?.clientWidth ?? 0;
  const height = viewport?.clientHeight ?? 0;
  const maxX = ((zoom - 1) * width) / 2;
  const maxY = ((zoom - 1) * height) / 2;
  return { x: Math.min(maxX, Math.max(-maxX, offset.x)), y: Math.min(maxY, Math.max(-maxY, offset.y)) };
}

/**
 * What the reader has done to the radiograph: zoom, pan and window (level, width, invert), with
 * the keyboard, pointer and wheel handlers of the frame that shows it. `imageUrl` is the image in
 * the frame: the wheel listener is attached again when it changes.
 */
export function useViewerState(imageUrl: string | undefined) {
  const [zoom, setZoom] = useState(1);
  const [offset, setOffset] = useState<Offset>({ x: 0, y: 0 });
  const [windowLevel, setWindowLevel] = useState<WindowLevel>(DEFAULT_WINDOW);
  const drag = useRef<{ pointerId: number; x: number; y: number; start: Offset } | null>(null);
  const viewportRef = useRef<HTMLDivElement>(null);

  const zoomTo = (next: number) => {
    const zoomed = clampZoom(next);
    setZoom(zoomed);
    setOffset((current) => clampOffset(current, zoomed, viewportRef.current));
  };
  const zoomIn = () => zoomTo(zoom * ZOOM_STEP);
  const zoomOut = () => zoomTo(zoom / ZOOM_STEP);
  const panBy = (dx: number, dy: number) =>
    setOffset((current) => clampOffset({ x: current.x + dx, y: current.y + dy }, zoom, viewportRef.current));
  const resetView = () => {
    setZoom(1);
    setOffset({ x: 0, y: 0 });
    setWindowLevel(DEFAULT_WINDOW);
  };

  // Wheel zoom needs a non-passive listener to keep the page from scrolling at the same time.
  useEffect(() => {
    const viewport = viewportRef.current;
    if (!viewport) return;
    const onWheel = (event: WheelEvent) => {
      event.preventDefault();
      setZoom((current) => {
        const zoomed = clampZoom(event.deltaY < 0 ? current * ZOOM_STEP : current / ZOOM_STEP);
        setOffset((offsetNow) => clampOffset(offsetNow, zoomed, viewport));
        return zoomed;
      });
    };
    viewport.addEventListener('wheel', onWheel, { passive: false });
    return () => viewport.removeEventListener('wheel', onWheel);
  }, [imageUrl]);

  const onKeyDown = (event: KeyboardEvent<HTMLDivElement>) => {
    const actions: Record<string, () => void> = {
      ArrowLeft: () => panBy(PAN_STEP_PX, 0),
      ArrowRight: () => panBy(-PAN_STEP_PX, 0),
      ArrowUp: () => panBy(0, PAN_STEP_PX),
      ArrowDown: () => panBy(0, -PAN_STEP_PX),
      '+': zoomIn,
      '=': zoomIn,
      '-': zoomOut,
      '0': resetView,
    };
    const action = actions[event.key];
    if (action) {
      event.preventDefault();
      action();
    }
  };

  const onPointerDown = (event: PointerEvent<HTMLDivElement>) => {
    if (zoom <= 1 || event.button !== 0) return;
    event.currentTarget.setPointerCapture(event.pointerId);
    drag.current = { pointerId: event.pointerId, x: event.clientX, y: event.clientY, start: offset };
  };
  const onPointerMove = (event: PointerEvent<HTMLDivElement>) => {
    const start = drag.current;
    if (!start || start.pointerId !== event.pointerId) return;
    const next = { x: start.start.x + event.clientX - start.x, y: start.start.y + event.clientY - start.y };
    setOffset(clampOffset(next, zoom, viewportRef.current));
  };
  const endDrag = () => {
    drag.current = null;
  };

  const windowed =
    windowLevel.invert || windowLevel.level !== DEFAULT_WINDOW.level || windowLevel.width !== DEFAULT_WINDOW.width;

  return {
    zoom,
    offset,
    windowLevel,
    setWindowLevel,
    /** Whether the window differs from the image as stored (the SVG filter is applied only then). */
    windowed,
    zoomIn,
    zoomOut,
    resetView,
    viewportRef,
    frameHandlers: { onKeyDown, onPointerDown, onPointerMove, onPointerUp: endDrag, onPointerCancel: endDrag },
  };
}
