import { AnalyserModel, AnalyserRunStatus } from '@/components/analyser-run-status';
import { UntrainedAnalyserWarning } from '@/components/ui/untrained-model-banner';
import { errorMessage } from '@/lib/api-error';
import type { CardiothoracicRatio, Segmentation } from '@/types/api';

import { useSegmentationOutlines } from '../api/get-segmentation-outlines';
import type { AnatomyLayers } from '../hooks/use-anatomy-layers';
import {
  HEART_LINE_COLOUR,
  measuredRatio,
  structureColour,
  structureLabel,
  THORAX_LINE_COLOUR,
} from '../utils/anatomy';

const UNTRAINED_RATIO_NOTE = 'The segmentation model is untrained, so no cardiothoracic ratio is given.';
const NO_RATIO_NOTE = 'No cardiothoracic ratio was measured.';

function MeasurementLegend({ layers }: { layers: AnatomyLayers }) {
  return (
    <div className="measurement-legend">
      <ul className="plain-list" aria-label="Measurement lines">
        <li>
          <span className="line-swatch" style={{ borderTopColor: HEART_LINE_COLOUR }} aria-hidden="true" />
          Red, solid: the heart's widest extent
        </li>
        <li>
          <span className="line-swatch line-swatch-dashed" style={{ borderTopColor: THORAX_LINE_COLOUR }} aria-hidden="true" />
          Blue, dashed: the thorax's widest inner extent
        </li>
      </ul>
      <label className="checkbox-field">
        <input type="checkbox" checked={layers.linesShown} onChange={(event) => layers.setLinesShown(event.target.checked)} />
        Show the measurement lines
      </label>
    </div>
  );
}

function RatioFacts({ ratio, layers }: { ratio: CardiothoracicRatio; layers: AnatomyLayers }) {
  return (
    <div className="cardiothoracic-ratio">
      <p>
        <strong>Cardiothoracic ratio {ratio.ratio.toFixed(2)}</strong>{' '}
        {ratio.above_range ? (
          <span className="tag tag-positive">Above the normal range</span>
        ) : (
          <span className="tag">Within the normal range</span>
        )}
      </p>
      <p className="muted">
        Normal range: ≤ {ratio.normal_upper_limit.toFixed(2)} on a PA film. View: {ratio.view ?? 'not recorded'}.
      </p>
      {ratio.caveat && (
        <p className="note" role="note">
          {ratio.caveat}
        </p>
      )}
      <MeasurementLegend layers={layers} />
    </div>
  );
}

function StructureToggles({ segmentation, layers }: { segmentation: Segmentation; layers: AnatomyLayers }) {
  const outlines = useSegmentationOutlines(layers.overlayShown ? segmentation.outlines : null);
  if (segmentation.structures.length === 0) return <p className="muted">The segmentation found no structures.</p>;
  return (
    <fieldset>
      <legend>Outlines on the radiograph</legend>
      {!layers.overlayShown && <p className="muted">The anatomy overlay is off: switch it on beside the image.</p>}
      {outlines.isError && <p className="error-text">Outlines unavailable: {errorMessage(outlines.error)}</p>}
      {outlines.isLoading && <p className="muted">Loading the outlines…</p>}
      <ul className="checkbox-grid structure-toggles">
        {segmentation.structures.map((name) => (
          <li key={name}>
            <label className="checkbox-field">
              <input type="checkbox" checked={layers.isStructureShown(name)} onChange={() => layers.toggleStructure(name)} />
              <span
                className="outline-swatch"
                style={{ borderColor: structureColour(segmentation.structures, name) }}
                aria-hidden="true"
              />
              {structureLabel(name)}
            </label>
          </li>
        ))}
      </ul>
    </fieldset>
  );
}

function SegmentationResult({ segmentation, layers }: { segmentation: Segmentation; layers: AnatomyLayers }) {
  const untrained = segmentation.analyser?.trained === false;
  const ratio = measuredRatio(segmentation);
  return (
    <>
      {untrained && (
        <UntrainedAnalyserWarning
          analyser="segmentation model"
          consequence="Its outlines come from seeded untrained weights: they are not anatomy."
        />
      )}
      {ratio ? (
        <RatioFacts ratio={ratio} layers={layers} />
      ) : (
        <p className="note">
          {segmentation.cardiothoracic_ratio_note ?? (untrained ? UNTRAINED_RATIO_NOTE : NO_RATIO_NOTE)}
        </p>
      )}
      <StructureToggles segmentation={segmentation} layers={layers} />
    </>
  );
}

/** The anatomy segmentation of a study: the cardiothoracic ratio, and switches for the outlines drawn. */
export function SegmentationPanel({ segmentation, layers }: { segmentation: Segmentation | null; layers: AnatomyLayers }) {
  if (!segmentation) return null;
  return (
    <section className="card analyser-panel" aria-labelledby="segmentation-heading">
      <h2 id="segmentation-heading">Anatomy and cardiothoracic ratio</h2>
      {segmentation.status === 'done' ? (
        <SegmentationResult segmentation={segmentation} layers={layers} />
      ) : (
        <AnalyserRunStatus status={segmentation.status} message={segmentation.message} analyser="segmentation" />
      )}
      <AnalyserModel card={segmentation.analyser} />
    </section>
  );
}
