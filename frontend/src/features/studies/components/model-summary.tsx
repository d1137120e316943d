import type { ModelSummary as ModelSummaryData } from '@/types/api';
import { displayLabel } from '@/utils/format';
import { validationAuroc } from '@/utils/model-validation';

/** The card of the model that produced this study's findings, as recorded with the result. */
export function ModelSummary({ model, labels }: { model: ModelSummaryData | null; labels: readonly string[] }) {
  if (!model) {
    return (
      <section className="card model-card" aria-labelledby="model-card-heading">
        <h2 id="model-card-heading">Model</h2>
        <p className="muted">Not recorded yet: the analysis has not finished.</p>
      </section>
    );
  }
  const auroc = validationAuroc(model.validation, labels);
  const perLabel = Object.entries(auroc.perLabel);
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
        <dd>
          {auroc.mean !== null ? auroc.mean.toFixed(3) : perLabel.length === 0 ? 'Not stated' : 'Per finding below'}
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
      {perLabel.length > 0 && (
        <details>
          <summary>Validation AUROC per finding</summary>
          <ul className="plain-list">
            {perLabel.map(([label, value]) => (
              <li key={label}>
                {displayLabel(label)}: {value.toFixed(3)}
              </li>
            ))}
          </ul>
        </details>
      )}
    </section>
  );
}
