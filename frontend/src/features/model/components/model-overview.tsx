import { ErrorMessage } from '@/components/ui/error-message';
import { Loading } from '@/components/ui/loading';
import type { FindingAgreement, ModelCard } from '@/types/api';
import { displayLabel, formatPercent } from '@/utils/format';
import { validationAuroc } from '@/utils/model-validation';

import { useModelAgreement } from '../api/get-model-agreement';
import { useModelCard } from '../api/get-model-card';

function CardFacts({ card }: { card: ModelCard }) {
  const auroc = validationAuroc(card.validation, card.labels);
  return (
    <section className="card" aria-labelledby="active-model-heading">
      <h2 id="active-model-heading">Active model</h2>
      <dl className="key-values">
        <dt>Name</dt>
        <dd>{card.name}</dd>
        <dt>Version</dt>
        <dd>{card.version}</dd>
        <dt>Trained</dt>
        <dd>{card.trained ? 'Yes' : <strong className="error-text">No — untrained weights, not for clinical use</strong>}</dd>
        <dt>Training data</dt>
        <dd>{card.training_data || 'Not stated'}</dd>
        <dt>Validation AUROC</dt>
        <dd>{auroc.mean !== null ? auroc.mean.toFixed(3) : 'Not stated'}</dd>
        <dt>Input</dt>
        <dd>
          {card.input_size}×{card.input_size} px, {card.input_channels === 1 ? 'greyscale' : `${card.input_channels} channels`}
        </dd>
        <dt>Weights SHA-256</dt>
        <dd>{card.weights_sha256 ? <code className="wrap">{card.weights_sha256}</code> : 'None (seeded weights)'}</dd>
      </dl>
      {card.validation !== null && card.validation !== undefined && (
        <details>
          <summary>Validation figures as recorded</summary>
          <pre className="json">{JSON.stringify(card.validation, null, 2)}</pre>
        </details>
      )}
    </section>
  );
}

function rateText(row: FindingAgreement | undefined): string {
  if (!row || row.agreement_rate === null) return '—';
  return formatPercent(row.agreement_rate);
}

function FindingsTable({ card, agreement }: { card: ModelCard; agreement: FindingAgreement[] | undefined }) {
  const auroc = validationAuroc(card.validation, card.labels);
  const byLabel = new Map(agreement?.map((row) => [row.label, row]));
  return (
    <div className="table-scroll">
      <table aria-label="Findings of the active model">
        <thead>
          <tr>
            <th scope="col">Finding</th>
            <th scope="col">Threshold</th>
            <th scope="col">Validation AUROC</th>
            <th scope="col">Agree</th>
            <th scope="col">Disagree</th>
            <th scope="col">Unsure</th>
            <th scope="col">Agreement rate</th>
          </tr>
        </thead>
        <tbody>
          {card.labels.map((label) => {
            const row = byLabel.get(label);
            return (
              <tr key={label}>
                <th scope="row">{displayLabel(label)}</th>
                <td>{formatPercent(card.thresholds[label] ?? 0)}</td>
                <td>{auroc.perLabel[label]?.toFixed(3) ?? '—'}</td>
                <td>{row?.agree ?? '—'}</td>
                <td>{row?.disagree ?? '—'}</td>
                <td>{row?.unsure ?? '—'}</td>
                <td>{rateText(row)}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}

export function ModelOverview() {
  const card = useModelCard();
  const agreement = useModelAgreement();

  if (card.isPending) return <Loading label="Loading the model card…" />;
  if (card.isError) return <ErrorMessage error={card.error} />;

  return (
    <div className="model-page">
      <h1>Model</h1>
      <CardFacts card={card.data} />
      <section className="card" aria-labelledby="agreement-heading">
        <h2 id="agreement-heading">Findings and clinician agreement</h2>
        <p className="muted">
          Agreement rate: agree ÷ (agree + disagree) over the feedback clinicians gave on studies of this model version;
          unsure answers count for neither.
        </p>
        {agreement.isError && <ErrorMessage error={agreement.error} />}
        {agreement.isPending && <Loading label="Loading agreement…" />}
        <FindingsTable card={card.data} agreement={agreement.data?.findings} />
      </section>
    </div>
  );
}
