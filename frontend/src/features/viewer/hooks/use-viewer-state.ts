import { type KeyboardEvent, type PointerEvent, useEffect, useRef, useState } from 'react';

import { type Orientation, orientationTransform, rotateClockwise, rotationFitScale, type Size, UPRIGHT } from '../utils/orientation';
import type { ViewerAction } from '../utils/viewer-keys';
import { applyPreset, DEFAULT_WINDOW, dragWindow, type WindowLevel, type WindowPresetId } from '../utils/window-level';

type Offset = { x: number; y: number };
/** What a drag on the image does: pan it (when zoomed) or change its window. */
export type DragMode = 'pan' | 'window';

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

const PRESET_ACTIONS: Partial<Record<ViewerAction, WindowPresetId>> = {
  presetFull: 'full',
  presetLungs: 'lungs',
  presetMediastinum: 'mediastinum',
  presetBone: 'bone',
};

type ViewerStateOptions = {
  /** The image in the frame: the wheel listener is attached again when it changes. */
  imageUrl: string | undefined;
  /** The radiograph's size in its own pixels, once known (a quarter turn is fitted to the frame with it). */
  imageSize: Size | null;
  /** Whether a second frame (the prior study's) shows the same view: the wheel zooms there too. */
  paired?: boolean;
};

/**
 * What the reader has done to the radiograph: zoom, pan, orientation and window (level, width,
 * invert), and what a drag does, with the pointer, wheel and arrow-key handlers of the frame that
 * shows it. `perform` runs the hotkeys' actions that are the view's (see utils/viewer-keys.ts).
 */
export function useViewerState({ imageUrl, imageSize, paired = false }: ViewerStateOptions) {
  const [zoom, setZoom] = useState(1);
  const [offset, setOffset] = useState<Offset>({ x: 0, y: 0 });
  const [windowLevel, setWindowLevel] = useState<WindowLevel>(DEFAULT_WINDOW);
  const [orientation, setOrientation] = useState<Orientation>(UPRIGHT);
  const [dragMode, setDragMode] = useState<DragMode>('pan');
  const [frameSize, setFrameSize] = useState<Size>({ width: 0, height: 0 });
  const drag = useRef<{ pointerId: number; x: number; y: number; offset: Offset; window: WindowLevel } | null>(null);
  const viewportRef = useRef<HTMLDivElement>(null);
  // The prior study's frame, when one is shown beside: the same size as the first (side by side).
  const pairedViewportRef = useRef<HTMLDivElement>(null);

  const zoomTo = (next: number) => {
    const zoomed = clampZoom(next);
    setZoom(zoomed);
    setOffset((current) => clampOffset(current, zoomed, viewportRef.current));
  };
  const zoomIn = () => zoomTo(zoom * ZOOM_STEP);
  const zoomOut = () => zoomTo(zoom / ZOOM_STEP);
  const panBy = (dx: number, dy: number) =>
    setOffset((current) => clampOffset({ x: current.x + dx, y: current.y + dy }, zoom, viewportRef.current));
  const fit = () => {
    setZoom(1);
    setOffset({ x: 0, y: 0 });
  };
  const resetView = () => {
    fit();
    setOrientation(UPRIGHT);
    setWindowLevel(DEFAULT_WINDOW);
  };
  const rotate = () => setOrientation(rotateClockwise);
  const flipHorizontal = () => setOrientation((current) => ({ ...current, flipHorizontal: !current.flipHorizontal }));
  const flipVertical = () => setOrientation((current) => ({ ...current, flipVertical: !current.flipVertical }));
  const toggleInvert = () => setWindowLevel((current) => ({ ...current, invert: !current.invert }));
  const choosePreset = (id: WindowPresetId) => setWindowLevel((current) => applyPreset(current, id));

  // Wheel zoom needs a non-passive listener to keep the page from scrolling at the same time;
  // the frame's size (which the full-screen mode and the layout change) fits a quarter turn.
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
    const frames = [viewport, pairedViewportRef.current].filter((frame) => frame !== null);
    for (const frame of frames) frame.addEventListener('wheel', onWheel, { passive: false });
    const observer = new ResizeObserver(() => setFrameSize({ width: viewport.clientWidth, height: viewport.clientHeight }));
    observer.observe(viewport);
    return () => {
      for (const frame of frames) frame.removeEventListener('wheel', onWheel);
      observer.disconnect();
    };
  }, [imageUrl, paired]);

  /** The hotkeys that act on the view; false for an action that is not the view's. */
  const perform = (action: ViewerAction): boolean => {
    const preset = PRESET_ACTIONS[action];
    if (preset) {
      choosePreset(preset);
      return true;
    }
    const actions: Partial<Record<ViewerAction, () => void>> = {
      invert: toggleInvert,
      rotate,
      flipHorizontal,
      flipVertical,
      zoomIn,
      zoomOut,
      fit,
      reset: resetView,
      windowTool: () => setDragMode((current) => (current === 'window' ? 'pan' : 'window')),
    };
    const run = actions[action];
    run?.();
    return Boolean(run);
  };

  const onKeyDown = (event: KeyboardEvent<HTMLDivElement>) => {
    const steps: Record<string, Offset> = {
      ArrowLeft: { x: PAN_STEP_PX, y: 0 },
      ArrowRight: { x: -PAN_STEP_PX, y: 0 },
      ArrowUp: { x: 0, y: PAN_STEP_PX },
      ArrowDown: { x: 0, y: -PAN_STEP_PX },
    };
    const step = steps[event.key];
    if (step) {
      event.preventDefault();
      panBy(step.x, step.y);
    }
  };

  const onPointerDown = (event: PointerEvent<HTMLDivElement>) => {
    if (event.button !== 0 || (dragMode === 'pan' && zoom <= 1)) return;
    event.currentTarget.setPointerCapture(event.pointerId);
    drag.current = { pointerId: event.pointerId, x: event.clientX, y: event.clientY, offset, window: windowLevel };
  };
  const onPointerMove = (event: PointerEvent<HTMLDivElement>) => {
    const start = drag.current;
    if (!start || start.pointerId !== event.pointerId) return;
    const dx = event.clientX - start.x;
    const dy = event.clientY - start.y;
    if (dragMode === 'window') setWindowLevel(dragWindow(start.window, dx, dy));
    else setOffset(clampOffset({ x: start.offset.x + dx, y: start.offset.y + dy }, zoom, viewportRef.current));
  };
  const endDrag = () => {
    drag.current = null;
  };

  const windowed =
    windowLevel.invert || windowLevel.level !== DEFAULT_WINDOW.level || windowLevel.width !== DEFAULT_WINDOW.width;
  /** The CSS transform of a stage showing an image of ``size``: pan, zoom, the quarter turn's fit, the orientation. */
  const stageTransformFor = (size: Size | null) => {
    const fitScale = size ? rotationFitScale(frameSize, size, orientation.rotation) : 1;
    return `translate(${offset.x}px, ${offset.y}px) scale(${zoom * fitScale}) ${orientationTransform(orientation)}`;
  };

  return {
    zoom,
    offset,
    windowLevel,
    setWindowLevel,
    /** Whether the window differs from the image as stored (the SVG filter is applied only then). */
    windowed,
    orientation,
    dragMode,
    setDragMode,
    /** The stage's CSS transform: pan, zoom, the quarter turn's fit, the orientation. */
    stageTransform: stageTransformFor(imageSize),
    stageTransformFor,
    zoomIn,
    zoomOut,
    fit,
    resetView,
    rotate,
    flipHorizontal,
    flipVertical,
    choosePreset,
    perform,
    viewportRef,
    pairedViewportRef,
    frameHandlers: { onKeyDown, onPointerDown, onPointerMove, onPointerUp: endDrag, onPointerCancel: endDrag },
  };
}
