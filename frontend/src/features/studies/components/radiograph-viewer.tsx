import { type KeyboardEvent, type PointerEvent, type ReactNode, useEffect, useId, useRef, useState } from 'react';

import { Field } from '@/components/ui/field';
import { useObjectUrl } from '@/hooks/use-object-url';
import { errorMessage } from '@/lib/api-error';

import { useStudyFile } from '../api/get-study-file';
import { DEFAULT_WINDOW, MIN_WINDOW_WIDTH, type WindowLevel, windowTransfer } from '../utils/window-level';
import { HeatmapLegend } from './heatmap-legend';

type RadiographViewerProps = {
  imagePath: string;
  fileName: string;
  /** The finding's map: `method` names the explanation method (Grad-CAM unless given); `path` is null while it is computed. */
  heatmap: { path: string | null; name: string; method?: string } | null;
  /** Drawn over the radiograph, zoomed and panned with it (the anatomy outlines). */
  overlay?: ReactNode;
};

type Offset = { x: number; y: number };

const MIN_ZOOM = 1;
const MAX_ZOOM = 8;
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

export function RadiographViewer({ imagePath, fileName, heatmap, overlay }: RadiographViewerProps) {
  const [opacity, setOpacity] = useState(0.6);
  const [zoom, setZoom] = useState(1);
  const [offset, setOffset] = useState<Offset>({ x: 0, y: 0 });
  const [windowLevel, setWindowLevel] = useState<WindowLevel>(DEFAULT_WINDOW);
  const drag = useRef<{ pointerId: number; x: number; y: number; start: Offset } | null>(null);
  const viewportRef = useRef<HTMLDivElement>(null);
  const filterId = `window-level-${useId().replace(/[^a-zA-Z0-9_-]/g, '')}`;

  const image = useStudyFile(imagePath);
  const heatmapFile = useStudyFile(heatmap?.path ?? undefined);
  const heatmapMethod = heatmap?.method ?? 'Grad-CAM';
  const imageUrl = useObjectUrl(image.data);
  const heatmapUrl = useObjectUrl(heatmap ? heatmapFile.data : undefined);

  const zoomTo = (next: number) => {
    const zoomed = clampZoom(next);
    setZoom(zoomed);
    setOffset((current) => clampOffset(current, zoomed, viewportRef.current));
  };
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

  const handleKeyDown = (event: KeyboardEvent<HTMLDivElement>) => {
    const actions: Record<string, () => void> = {
      ArrowLeft: () => panBy(PAN_STEP_PX, 0),
      ArrowRight: () => panBy(-PAN_STEP_PX, 0),
      ArrowUp: () => panBy(0, PAN_STEP_PX),
      ArrowDown: () => panBy(0, -PAN_STEP_PX),
      '+': () => zoomTo(zoom * ZOOM_STEP),
      '=': () => zoomTo(zoom * ZOOM_STEP),
      '-': () => zoomTo(zoom / ZOOM_STEP),
      '0': resetView,
    };
    const action = actions[event.key];
    if (action) {
      event.preventDefault();
      action();
    }
  };

  const handlePointerDown = (event: PointerEvent<HTMLDivElement>) => {
    if (zoom <= 1 || event.button !== 0) return;
    event.currentTarget.setPointerCapture(event.pointerId);
    drag.current = { pointerId: event.pointerId, x: event.clientX, y: event.clientY, start: offset };
  };
  const handlePointerMove = (event: PointerEvent<HTMLDivElement>) => {
    const start = drag.current;
    if (!start || start.pointerId !== event.pointerId) return;
    const next = { x: start.start.x + event.clientX - start.x, y: start.start.y + event.clientY - start.y };
    setOffset(clampOffset(next, zoom, viewportRef.current));
  };
  const endDrag = () => {
    drag.current = null;
  };

  const windowed = windowLevel.invert || windowLevel.level !== DEFAULT_WINDOW.level || windowLevel.width !== DEFAULT_WINDOW.width;
  const transfer = windowTransfer(windowLevel);

  return (
    <figure className="radiograph-viewer">
      <div
        ref={viewportRef}
        className={`radiograph-frame${zoom > 1 ? ' is-zoomed' : ''}`}
        role="group"
        aria-label="Radiograph viewer: arrow keys pan, + and - zoom, 0 resets"
        tabIndex={0}
        onKeyDown={handleKeyDown}
        onPointerDown={handlePointerDown}
        onPointerMove={handlePointerMove}
        onPointerUp={endDrag}
        onPointerCancel={endDrag}
      >
        {imageUrl ? (
          <div
            className="radiograph-stage"
            style={{ transform: `translate(${offset.x}px, ${offset.y}px) scale(${zoom})` }}
          >
            <img
              className="radiograph"
              src={imageUrl}
              alt={`Radiograph ${fileName}`}
              draggable={false}
              style={windowed ? { filter: `url(#${filterId})` } : undefined}
            />
            {heatmap && heatmapUrl && (
              <img
                className="heatmap-overlay"
                src={heatmapUrl}
                alt={`${heatmapMethod} heatmap for ${heatmap.name}`}
                draggable={false}
                style={{ opacity }}
              />
            )}
            {overlay}
          </div>
        ) : (
          <div className="radiograph-placeholder">
            {image.isError ? `Radiograph unavailable: ${errorMessage(image.error)}` : 'Loading radiograph…'}
          </div>
        )}
        <svg className="svg-defs" aria-hidden="true" focusable="false">
          <filter id={filterId} colorInterpolationFilters="sRGB">
            <feComponentTransfer>
              <feFuncR type="linear" slope={transfer.slope} intercept={transfer.intercept} />
              <feFuncG type="linear" slope={transfer.slope} intercept={transfer.intercept} />
              <feFuncB type="linear" slope={transfer.slope} intercept={transfer.intercept} />
            </feComponentTransfer>
          </filter>
        </svg>
      </div>
      <div className="viewer-controls" role="group" aria-label="Image controls">
        <div className="viewer-zoom">
          <button type="button" className="button-secondary" onClick={() => zoomTo(zoom / ZOOM_STEP)} disabled={zoom <= MIN_ZOOM}>
            Zoom out
          </button>
          <output className="viewer-zoom-level" aria-live="polite" aria-label="Zoom level">
            {Math.round(zoom * 100)}%
          </output>
          <button type="button" className="button-secondary" onClick={() => zoomTo(zoom * ZOOM_STEP)} disabled={zoom >= MAX_ZOOM}>
            Zoom in
          </button>
          <button type="button" className="button-secondary" onClick={resetView}>
            Reset view
          </button>
        </div>
        <Field label="Window level (brightness)" className="range-field">
          <input
            type="range"
            min={0}
            max={1}
            step={0.01}
            value={windowLevel.level}
            aria-valuetext={`${Math.round(windowLevel.level * 100)}%`}
            onChange={(event) => setWindowLevel((current) => ({ ...current, level: Number(event.target.value) }))}
          />
        </Field>
        <Field label="Window width (contrast)" className="range-field">
          <input
            type="range"
            min={MIN_WINDOW_WIDTH}
            max={1}
            step={0.01}
            value={windowLevel.width}
            aria-valuetext={`${Math.round(windowLevel.width * 100)}%`}
            onChange={(event) => setWindowLevel((current) => ({ ...current, width: Number(event.target.value) }))}
          />
        </Field>
        <label className="checkbox-field">
          <input
            type="checkbox"
            checked={windowLevel.invert}
            onChange={(event) => setWindowLevel((current) => ({ ...current, invert: event.target.checked }))}
          />
          Invert
        </label>
      </div>
      <figcaption>
        {heatmap ? (
          <>
            {heatmapFile.isPending && <span className="muted">Loading heatmap for {heatmap.name}…</span>}
            {heatmapFile.isError && <span className="error-text">{errorMessage(heatmapFile.error)}</span>}
            {heatmapFile.isSuccess && (
              <span>
                {heatmapMethod}: where the model looked for {heatmap.name}.
              </span>
            )}
            <HeatmapLegend findingName={heatmap.name} />
            <Field label="Heatmap opacity" className="range-field">
              <input
                type="range"
                min={0.1}
                max={1}
                step={0.1}
                value={opacity}
                aria-valuetext={`${Math.round(opacity * 100)}%`}
                onChange={(event) => setOpacity(Number(event.target.value))}
              />
            </Field>
          </>
        ) : (
          <span className="muted">{fileName}: select a finding to overlay its heatmap.</span>
        )}
      </figcaption>
    </figure>
  );
}
