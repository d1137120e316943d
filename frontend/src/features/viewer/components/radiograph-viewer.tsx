import { type ReactNode, useId, useState } from 'react';

import { Field } from '@/components/ui/field';
import { useObjectUrl } from '@/hooks/use-object-url';
import { useStudyFile } from '@/hooks/use-study-file';
import { errorMessage } from '@/lib/api-error';

import { MAX_ZOOM, MIN_ZOOM, useViewerState } from '../hooks/use-viewer-state';
import { MIN_WINDOW_WIDTH, windowTransfer } from '../utils/window-level';
import { HeatmapLegend } from './heatmap-legend';

type RadiographViewerProps = {
  imagePath: string;
  fileName: string;
  /** The finding's map: `method` names the explanation method (Grad-CAM unless given); `path` is null while it is computed. */
  heatmap: { path: string | null; name: string; method?: string } | null;
  /** Drawn over the radiograph, zoomed and panned with it (the anatomy outlines). */
  overlay?: ReactNode;
  /** What the caption says while no map is shown (by default: how to show a finding's map). */
  caption?: string;
};

export function RadiographViewer({
  imagePath,
  fileName,
  heatmap,
  overlay,
  caption = 'select a finding to overlay its heatmap.',
}: RadiographViewerProps) {
  const [opacity, setOpacity] = useState(0.6);
  const filterId = `window-level-${useId().replace(/[^a-zA-Z0-9_-]/g, '')}`;

  const image = useStudyFile(imagePath);
  const heatmapFile = useStudyFile(heatmap?.path ?? undefined);
  const heatmapMethod = heatmap?.method ?? 'Grad-CAM';
  const imageUrl = useObjectUrl(image.data);
  const heatmapUrl = useObjectUrl(heatmap ? heatmapFile.data : undefined);
  const { zoom, offset, windowLevel, setWindowLevel, windowed, zoomIn, zoomOut, resetView, viewportRef, frameHandlers } =
    useViewerState(imageUrl);

  const transfer = windowTransfer(windowLevel);

  return (
    <figure className="radiograph-viewer">
      <div
        ref={viewportRef}
        className={`radiograph-frame${zoom > 1 ? ' is-zoomed' : ''}`}
        role="group"
        aria-label="Radiograph viewer: arrow keys pan, + and - zoom, 0 resets"
        tabIndex={0}
        {...frameHandlers}
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
          <button type="button" className="button-secondary" onClick={zoomOut} disabled={zoom <= MIN_ZOOM}>
            Zoom out
          </button>
          <output className="viewer-zoom-level" aria-live="polite" aria-label="Zoom level">
            {Math.round(zoom * 100)}%
          </output>
          <button type="button" className="button-secondary" onClick={zoomIn} disabled={zoom >= MAX_ZOOM}>
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
          <span className="muted">
            {fileName}: {caption}
          </span>
        )}
      </figcaption>
    </figure>
  );
}
