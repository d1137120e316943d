import type { Measurements } from '../hooks/use-measurements';
import { formatLength, horizontalWidth, lineLength } from '../utils/measurement';

// The published upper limit on a PA film; the segmentation's own ratio states its range the same way.
const RATIO_UPPER_LIMIT = 0.5;

type MeasurementResultsProps = { measurements: Measurements; pixelSpacingMm: readonly number[] | null | undefined };

/** What the reader measured, in words: each length, the manual cardiothoracic ratio, and what to do next. */
export function MeasurementResults({ measurements, pixelSpacingMm }: MeasurementResultsProps) {
  const { lengths, ratio, instruction } = measurements;
  const unitNote = pixelSpacingMm ? 'in millimetres, from the DICOM pixel spacing' : 'in image pixels: the file records no pixel spacing';
  return (
    <section className="measurement-results" aria-label="Measurements">
      <p className="muted measurement-instruction" aria-live="polite">
        {instruction ?? 'Press m to measure a length, c for the cardiothoracic ratio (or the buttons above).'}
      </p>
      {(lengths.length > 0 || ratio) && (
        <>
          <ul className="plain-list">
            {lengths.map((line, index) => (
              <li key={index}>
                Length {index + 1}: <strong>{formatLength(lineLength(line, pixelSpacingMm))}</strong>
              </li>
            ))}
            {ratio && (
              <li>
                Cardiothoracic ratio (manual):{' '}
                <strong>{ratio.ratio === null ? 'the thorax line has no width' : ratio.ratio.toFixed(2)}</strong>{' '}
                <span className="muted">
                  (heart {formatLength(horizontalWidth(ratio.heart, pixelSpacingMm))}, thorax{' '}
                  {formatLength(horizontalWidth(ratio.thorax, pixelSpacingMm))} wide; ≤ {RATIO_UPPER_LIMIT.toFixed(2)} is the normal range on a PA film)
                </span>
              </li>
            )}
          </ul>
          <p className="muted">Lengths {unitNote}.</p>
          <button type="button" className="button-secondary" onClick={measurements.clear}>
            Clear measurements
          </button>
        </>
      )}
    </section>
  );
}
