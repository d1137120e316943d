import { ErrorMessage } from '@/components/ui/error-message';
import { TrainedFlag, WeightsDigest } from '@/components/model-card-values';
import { Loading } from '@/components/ui/loading';
import {
  findingAurocText,
  meanAurocText,
  ValidationFindingsTable,
  validationSetText,
} from '@/components/validation-figures';
import type { FindingAgreement, ModelCard } from '@/types/api';
import { displayLabel, formatPercent } from '@/utils/format';

import { useModelAgreement } from '../api/get-model-agreement';
import { useModelCard } from '../api/get-model-card';
import { AnalyserCards } from './analyser-cards';

function CardFacts({ card }: { card: ModelCard }) {
  return (
    <section className="card" aria-labelledby="active-model-heading">
      <h2 id="active-model-heading">Active model</h2>
      <dl className="key-values">
        <dt>Name</dt>
        <dd>{card.name}</dd>
        <dt>Version</dt>
        <dd>{card.version}</dd>
        <dt>Trained</dt>
        <dd>
          <TrainedFlag trained={card.trained} />
        </dd>
        <dt>Training data</dt>
        <dd>{card.training_data || 'Not stated'}</dd>
        <dt>Validation AUROC</dt>
        <dd>{meanAurocText(card.validation)}</dd>
        {card.validation && (
          <>
            <dt>Validation set</dt>
            <dd>{validationSetText(card.validation)}</dd>
          </>
        )}
        <dt>Input</dt>
        <dd>
          {card.input_size}×{card.input_size} px, {card.input_channels === 1 ? 'greyscale' : `${card.input_channels} channels`}
        </dd>
        <dt>Weights SHA-256</dt>
        <dd>
          <WeightsDigest sha256={card.weights_sha256} />
        </dd>
      </dl>
    </section>
  );
}

function rateText(row: FindingAgreement | undefined): string {
  if (!row || row.agreement_rate === null) return '—';
  return formatPercent(row.agreement_rate);
}

function FindingsTable({ card, agreement }: { card: ModelCard; agreement: FindingAgreement[] | undefined }) {
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
                <td>{findingAurocText(card.validation?.findings[label])}</td>
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
      {card.data.validation && (
        <section className="card" aria-labelledby="validation-heading">
          <h2 id="validation-heading">Validation figures</h2>
          <p className="muted">
            On the validation set held out in training, at each finding's operating threshold. PPV depends on how common
            the finding was in that set.
          </p>
          <ValidationFindingsTable validation={card.data.validation} labels={card.data.labels} />
        </section>
      )}
      <AnalyserCards />
    </div>
  );
}
