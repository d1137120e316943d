import { type KeyboardEvent, type ReactNode, useId, useRef, useState } from 'react';

import { Field } from '@/components/ui/field';
import { useObjectUrl } from '@/hooks/use-object-url';
import { useStudyFile } from '@/hooks/use-study-file';
import { errorMessage } from '@/lib/api-error';

import { useFullScreen } from '../hooks/use-full-screen';
import { useMeasurements } from '../hooks/use-measurements';
import { useViewerHotkeys } from '../hooks/use-viewer-hotkeys';
import { useViewerState } from '../hooks/use-viewer-state';
import type { Size } from '../utils/orientation';
import type { ViewerAction } from '../utils/viewer-keys';
import { windowTransfer } from '../utils/window-level';
import { type ComparedImage, ComparedFrame } from './compared-frame';
import { HeatmapLegend } from './heatmap-legend';
import { MeasurementLayer } from './measurement-layer';
import { MeasurementResults } from './measurement-results';
import { ViewerKeyHelp } from './viewer-key-help';
import { ViewerToolbar } from './viewer-toolbar';

type RadiographViewerProps = {
  imagePath: string;
  fileName: string;
  /** The radiograph's size in pixels (measurements are made in them); null while unknown. */
  imageSize: Size | null;
  /** DICOM's pixel spacing (rows, then columns), in mm: lengths are given in mm with it, in pixels without. */
  pixelSpacingMm?: readonly number[] | null;
  /**
   * The finding's map, null when none is shown (it is fetched only then): `method` names the
   * explanation method (Grad-CAM unless given); `path` is null while it is computed.
   */
  heatmap: { path: string | null; name: string; method?: string } | null;
  /** Drawn over the radiograph, zoomed and panned with it (the anatomy outlines). */
  overlay?: ReactNode;
  /** The switches for what is drawn over the radiograph, shown among the image controls. */
  overlayControls?: ReactNode;
  /** What the caption says while no map is shown (by default: how to show a finding's map). */
  caption?: string;
  /**
   * An image to read beside this one (the patient's prior study), in the same view: zoom, pan,
   * orientation and window act on both. `label` names this one's pane then.
   */
  compareWith?: (ComparedImage & { currentLabel: string }) | null;
};

export function RadiographViewer({
  imagePath,
  fileName,
  imageSize,
  pixelSpacingMm,
  heatmap,
  overlay,
  overlayControls,
  caption = 'select a finding and switch its heatmap on to overlay it.',
  compareWith = null,
}: RadiographViewerProps) {
  const [opacity, setOpacity] = useState(0.6);
  const [helpShown, setHelpShown] = useState(false);
  const viewerRef = useRef<HTMLElement>(null);
  const baseId = useId().replace(/[^a-zA-Z0-9_-]/g, '');
  const filterId = `window-level-${baseId}`;
  const helpId = `viewer-keys-${baseId}`;

  const image = useStudyFile(imagePath);
  const heatmapFile = useStudyFile(heatmap?.path ?? undefined);
  const heatmapMethod = heatmap?.method ?? 'Grad-CAM';
  const imageUrl = useObjectUrl(image.data);
  const heatmapUrl = useObjectUrl(heatmap ? heatmapFile.data : undefined);
  const view = useViewerState({ imageUrl, imageSize, paired: compareWith !== null });
  const measurements = useMeasurements({ imageSize, orientation: view.orientation });
  const fullScreen = useFullScreen(viewerRef);
  const measuring = measurements.mode !== null;

  useViewerHotkeys((action: ViewerAction) => {
    if (measurements.perform(action) || view.perform(action)) return true;
    if (action === 'fullScreen') fullScreen.toggle();
    else if (action === 'help') setHelpShown((shown) => !shown);
    else if (action === 'cancel' && (helpShown || fullScreen.fullScreen)) {
      setHelpShown(false);
      fullScreen.exit();
    } else return false;
    return true;
  });

  const onFrameKeyDown = (event: KeyboardEvent<HTMLDivElement>) => {
    if (!measurements.onFrameKeyDown(event)) view.frameHandlers.onKeyDown(event);
  };
  const transfer = windowTransfer(view.windowLevel);
  const frameClasses = ['radiograph-frame', view.zoom > 1 && 'is-zoomed', view.dragMode === 'window' && 'is-windowing', measuring && 'is-measuring'];

  return (
    <figure ref={viewerRef} className={`radiograph-viewer${fullScreen.fullScreen ? ' is-full-screen' : ''}`}>
      <ViewerToolbar
        view={view}
        measurements={measurements}
        fullScreen={fullScreen.fullScreen}
        onToggleFullScreen={fullScreen.toggle}
        helpId={helpId}
        helpShown={helpShown}
        onToggleHelp={() => setHelpShown((shown) => !shown)}
        overlayControls={overlayControls}
      />
      {helpShown && <ViewerKeyHelp id={helpId} onClose={() => setHelpShown(false)} />}
      <div className={compareWith ? 'radiograph-pair' : 'radiograph-single'}>
      {compareWith && <p className="radiograph-pane-label radiograph-pane-current">{compareWith.currentLabel}</p>}
      <div
        ref={view.viewportRef}
        className={frameClasses.filter(Boolean).join(' ')}
        role="group"
        aria-label="Radiograph viewer: arrow keys pan (or move the measuring cross), + and - zoom, ? lists the keys"
        tabIndex={0}
        {...view.frameHandlers}
        // While measuring, a click places a point (the measurement layer's) instead of starting a drag.
        onPointerDown={measuring ? undefined : view.frameHandlers.onPointerDown}
        onKeyDown={onFrameKeyDown}
      >
        {imageUrl ? (
          <div className="radiograph-stage" style={{ transform: view.stageTransform }}>
            <img
              className="radiograph"
              src={imageUrl}
              alt={`Radiograph ${fileName}`}
              draggable={false}
              style={view.windowed ? { filter: `url(#${filterId})` } : undefined}
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
            {imageSize && <MeasurementLayer measurements={measurements} imageSize={imageSize} pixelSpacingMm={pixelSpacingMm} />}
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
      {compareWith && (
        <>
          <p className="radiograph-pane-label radiograph-pane-prior">{compareWith.label}</p>
          <ComparedFrame image={compareWith} view={view} filterId={filterId} />
        </>
      )}
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
      <MeasurementResults measurements={measurements} pixelSpacingMm={pixelSpacingMm} />
    </figure>
  );
}
