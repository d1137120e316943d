import { meanAurocText, ValidationFindingsTable, validationSetText } from '@/components/validation-figures';
import type { ModelSummary as ModelSummaryData, ThresholdProfileSummary } from '@/types/api';

type ModelSummaryProps = {
  model: ModelSummaryData | null;
  labels: readonly string[];
  /** The site threshold profile the findings were judged under; null: the card's own thresholds. */
  thresholdProfile?: ThresholdProfileSummary | null;
};

/** The card of the model that produced this study's findings, as recorded with the result. */
export function ModelSummary({ model, labels, thresholdProfile = null }: ModelSummaryProps) {
  if (!model) {
    return (
      <section className="card model-card" aria-labelledby="model-card-heading">
        <h2 id="model-card-heading">Model</h2>
        <p className="muted">Not recorded yet: the analysis has not finished.</p>
      </section>
    );
  }
  const validation = model.validation ?? null;
  return (
    <section className="card model-card" aria-labelledby="model-card-heading">
      <h2 id="model-card-heading">Model</h2>
      <dl className="key-values">
        <dt>Name</dt>
        <dd>{model.name}</dd>
        <dt>Version</dt>
        <dd>{model.version}</dd>
        <dt>Trained</dt>
        <dd>{model.trained ? 'Yes' : <strong className="error-text">No — untrained weights</strong>}</dd>
        <dt>Training data</dt>
        <dd>{model.training_data || 'Not stated'}</dd>
        <dt>Validation AUROC</dt>
        <dd>{meanAurocText(validation)}</dd>
        {validation && (
          <>
            <dt>Validation set</dt>
            <dd>{validationSetText(validation)}</dd>
          </>
        )}
        <dt>Thresholds</dt>
        <dd>
          {thresholdProfile
            ? `Site threshold profile ${thresholdProfile.identity} (${thresholdProfile.rule})`
            : "The model card's own"}
        </dd>
        {model.weights_sha256 && (
          <>
            <dt>Weights</dt>
            <dd>
              <code title={model.weights_sha256}>{model.weights_sha256.slice(0, 12)}…</code>
            </dd>
          </>
        )}
      </dl>
      {validation && Object.keys(validation.findings).length > 0 && (
        <details>
          <summary>Validation figures per finding</summary>
          <ValidationFindingsTable validation={validation} labels={labels} />
        </details>
      )}
    </section>
  );
}
