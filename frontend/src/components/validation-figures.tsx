import type { FindingValidation, ModelValidation } from '@/types/api';
import { displayLabel, formatPercent } from '@/utils/format';

// The model card's validation figures (ml/src/ml/weights/validation.py), shown on the model page
// and with each study's model card.

function intervalText(interval: number[] | null): string {
  return interval ? ` (95% CI ${interval.map((bound) => bound.toFixed(3)).join('–')})` : '';
}

function fractionText(value: number | null): string {
  return value === null ? '—' : formatPercent(value);
}

/** "0.840 (95% CI 0.820–0.860)", or why there is no figure. */
export function meanAurocText(validation: ModelValidation | null | undefined): string {
  if (!validation) return 'Not stated';
  if (validation.mean_auroc === null) return 'Not computable (no positives)';
  return `${validation.mean_auroc.toFixed(3)}${intervalText(validation.mean_auroc_ci95)}`;
}

export function findingAurocText(figures: FindingValidation | undefined): string {
  if (!figures || figures.auroc === null) return '—';
  return `${figures.auroc.toFixed(3)}${intervalText(figures.auroc_ci95)}`;
}

export function validationSetText(validation: ModelValidation): string {
  return `${validation.images} images of ${validation.patients} patients; thresholds chosen by ${validation.threshold_method}`;
}

/** Every finding's figures on the validation set, in the card's label order. */
export function ValidationFindingsTable({ validation, labels }: { validation: ModelValidation; labels: readonly string[] }) {
  const rows = labels.filter((label) => label in validation.findings);
  return (
    <div className="table-scroll">
      <table aria-label="Validation figures per finding">
        <thead>
          <tr>
            <th scope="col">Finding</th>
            <th scope="col">Positives / negatives</th>
            <th scope="col">AUROC (95% CI)</th>
            <th scope="col">Threshold</th>
            <th scope="col">Sensitivity</th>
            <th scope="col">Specificity</th>
            <th scope="col">PPV</th>
            <th scope="col">F1</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((label) => {
            const figures = validation.findings[label]!;
            return (
              <tr key={label}>
                <th scope="row">{displayLabel(label)}</th>
                <td>
                  {figures.positives} / {figures.negatives}
                </td>
                <td>{findingAurocText(figures)}</td>
                <td>
                  {formatPercent(figures.threshold)}
                  {figures.threshold_from === 'default' && <span className="muted"> (default)</span>}
                </td>
                <td>{fractionText(figures.sensitivity)}</td>
                <td>{fractionText(figures.specificity)}</td>
                <td>{fractionText(figures.ppv)}</td>
                <td>{figures.f1 === null ? '—' : figures.f1.toFixed(3)}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}
