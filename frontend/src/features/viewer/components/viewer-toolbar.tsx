import type { ReactNode } from 'react';

import { Field } from '@/components/ui/field';

import type { Measurements } from '../hooks/use-measurements';
import { MAX_ZOOM, MIN_ZOOM, type useViewerState } from '../hooks/use-viewer-state';
import { matchingPreset, MIN_WINDOW_WIDTH, WINDOW_PRESETS, type WindowPresetId } from '../utils/window-level';

type ViewerToolbarProps = {
  view: ReturnType<typeof useViewerState>;
  measurements: Measurements;
  fullScreen: boolean;
  onToggleFullScreen: () => void;
  helpId: string;
  helpShown: boolean;
  onToggleHelp: () => void;
  /** The route's switches for what is drawn over the image (heatmap, anatomy outlines). */
  overlayControls?: ReactNode;
};

type ToolButtonProps = { label: string; shortcut?: string; pressed: boolean; onClick: () => void };

function ToolButton({ label, shortcut, pressed, onClick }: ToolButtonProps) {
  return (
    <button type="button" className="button-secondary" aria-pressed={pressed} aria-keyshortcuts={shortcut} onClick={onClick}>
      {label}
      {shortcut && <kbd aria-hidden="true">{shortcut}</kbd>}
    </button>
  );
}

/** The reader's tools above the image: what a drag does, zoom and orientation, window, overlays, full screen, keys. */
export function ViewerToolbar({
  view,
  measurements,
  fullScreen,
  onToggleFullScreen,
  helpId,
  helpShown,
  onToggleHelp,
  overlayControls,
}: ViewerToolbarProps) {
  const { zoom, windowLevel, setWindowLevel } = view;
  const dragging = measurements.mode === null;
  return (
    <div className="viewer-toolbar" role="toolbar" aria-label="Image controls">
      <div className="viewer-tool-group" role="group" aria-label="Tools">
        <ToolButton
          label="Pan"
          pressed={dragging && view.dragMode === 'pan'}
          onClick={() => {
            measurements.stop();
            view.setDragMode('pan');
          }}
        />
        <ToolButton
          label="Window/level drag"
          shortcut="w"
          pressed={dragging && view.dragMode === 'window'}
          onClick={() => {
            measurements.stop();
            view.setDragMode('window');
          }}
        />
        <ToolButton label="Measure length" shortcut="m" pressed={measurements.mode === 'length'} onClick={() => measurements.start('length')} />
        <ToolButton label="Cardiothoracic ratio" shortcut="c" pressed={measurements.mode === 'ratio'} onClick={() => measurements.start('ratio')} />
      </div>
      <div className="viewer-tool-group" role="group" aria-label="Zoom and orientation">
        <button type="button" className="button-secondary" onClick={view.zoomOut} disabled={zoom <= MIN_ZOOM} aria-keyshortcuts="-">
          Zoom out
        </button>
        <output className="viewer-zoom-level" aria-live="polite" aria-label="Zoom level">
          {Math.round(zoom * 100)}%
        </output>
        <button type="button" className="button-secondary" onClick={view.zoomIn} disabled={zoom >= MAX_ZOOM} aria-keyshortcuts="+">
          Zoom in
        </button>
        <button type="button" className="button-secondary" onClick={view.fit} aria-keyshortcuts="=">
          Fit
        </button>
        <button type="button" className="button-secondary" onClick={view.rotate} aria-keyshortcuts="r">
          Rotate
        </button>
        <button type="button" className="button-secondary" onClick={view.flipHorizontal} aria-pressed={view.orientation.flipHorizontal} aria-keyshortcuts="h">
          Flip horizontal
        </button>
        <button type="button" className="button-secondary" onClick={view.flipVertical} aria-pressed={view.orientation.flipVertical} aria-keyshortcuts="v">
          Flip vertical
        </button>
        <button type="button" className="button-secondary" onClick={view.resetView} aria-keyshortcuts="0">
          Reset view
        </button>
      </div>
      <div className="viewer-tool-group" role="group" aria-label="Window">
        <Field label="Window preset" className="field viewer-preset">
          <select
            value={matchingPreset(windowLevel) ?? 'custom'}
            onChange={(event) => view.choosePreset(event.target.value as WindowPresetId)}
          >
            {WINDOW_PRESETS.map((preset, index) => (
              <option key={preset.id} value={preset.id}>
                {preset.name} ({index + 1})
              </option>
            ))}
            <option value="custom" disabled>
              Custom
            </option>
          </select>
        </Field>
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
            aria-keyshortcuts="i"
            onChange={(event) => setWindowLevel((current) => ({ ...current, invert: event.target.checked }))}
          />
          Invert
        </label>
      </div>
      {overlayControls && (
        <div className="viewer-tool-group" role="group" aria-label="Overlays">
          {overlayControls}
        </div>
      )}
      <div className="viewer-tool-group">
        <button type="button" className="button-secondary" aria-pressed={fullScreen} aria-keyshortcuts="f" onClick={onToggleFullScreen}>
          Full screen
        </button>
        <button
          type="button"
          className="button-secondary"
          aria-expanded={helpShown}
          aria-controls={helpShown ? helpId : undefined}
          aria-keyshortcuts="?"
          onClick={onToggleHelp}
        >
          Keys <kbd aria-hidden="true">?</kbd>
        </button>
      </div>
    </div>
  );
}
