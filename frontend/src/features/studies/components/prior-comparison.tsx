import { Link } from 'react-router';

import { ErrorMessage } from '@/components/ui/error-message';
import { Loading } from '@/components/ui/loading';
import { paths } from '@/config/paths';
import type { PriorStudy, Study } from '@/types/api';
import { displayLabel, formatDateTime, formatPercent } from '@/utils/format';

import { findingChanges, formatChangePp, formatRatioChange, ratioChange } from '../utils/prior-changes';

type PriorComparisonProps = {
  study: Study;
  /** The prior study as loaded from its own route: undefined while it loads. */
  prior: Study | undefined;
  priorError: unknown;
  comparing: boolean;
  onComparingChange: (comparing: boolean) => void;
};

const CROSSED_TEXT = { 'became-positive': 'now above its threshold', 'became-negative': 'now below its threshold' } as const;

/** Why no prior is offered: the patient is not known, or none of their earlier studies is the user's. */
function NoPrior({ study }: { study: Study }) {
  return (
    <p className="muted">
      {study.patient_known
        ? 'No earlier analysed study of this patient among your studies.'
        : 'This study names no patient (no Patient ID in its file, no patient reference typed at upload), so no prior can be found.'}
    </p>
  );
}

/** The models differ, or either is untrained: the changes then say little or nothing. */
function ModelCaveat({ study, prior }: { study: Study; prior: Study }) {
  const untrained = study.model?.trained === false || prior.model?.trained === false;
  const sameModel =
    study.model?.name === prior.model?.name &&
    study.model?.version === prior.model?.version &&
    study.model?.weights_sha256 === prior.model?.weights_sha256;
  return (
    <>
      {untrained && (
        <p className="error analyser-warning" role="note">
          <strong>Untrained model — not for clinical use.</strong> The probabilities, and so their changes, mean nothing.
        </p>
      )}
      {!sameModel && <p className="note">The two studies were analysed by different models: their probabilities may not compare.</p>}
    </>
  );
}

function ChangesTable({ study, prior }: { study: Study; prior: Study }) {
  const changes = findingChanges(study.findings, prior.findings);
  const ratio = ratioChange(study, prior);
  return (
    <div className="table-scroll">
      <table className="prior-changes">
        <caption>Change since the prior study (probability, in percentage points)</caption>
        <thead>
          <tr>
            <th scope="col">Finding</th>
            <th scope="col">Prior</th>
            <th scope="col">Now</th>
            <th scope="col">Change</th>
          </tr>
        </thead>
        <tbody>
          {changes.map((change) => (
            <tr key={change.label}>
              <th scope="row">{displayLabel(change.label)}</th>
              <td>{formatPercent(change.prior)}</td>
              <td>{formatPercent(change.current)}</td>
              <td className={change.direction === 'up' ? 'change-up' : undefined}>
                {formatChangePp(change)}
                {change.crossed && <span className="muted"> ({CROSSED_TEXT[change.crossed]})</span>}
              </td>
            </tr>
          ))}
          {ratio && (
            <tr>
              <th scope="row">Cardiothoracic ratio</th>
              <td>{ratio.prior.toFixed(2)}</td>
              <td>{ratio.current.toFixed(2)}</td>
              <td className={ratio.direction === 'up' ? 'change-up' : undefined}>{formatRatioChange(ratio)}</td>
            </tr>
          )}
        </tbody>
      </table>
      {!ratio && <p className="muted small">Cardiothoracic ratio: not measured on both studies, so no change is given.</p>}
    </div>
  );
}

/** The patient's prior study: what it is, a switch to read it side by side, and each finding's change. */
export function PriorComparison({ study, prior, priorError, comparing, onComparingChange }: PriorComparisonProps) {
  const summary: PriorStudy | null = study.prior;
  return (
    <section className="card prior-comparison" aria-labelledby="prior-heading">
      <h2 id="prior-heading">Prior study</h2>
      {summary === null ? (
        <NoPrior study={study} />
      ) : (
        <>
          <p>
            <Link to={paths.study(summary.id)}>{summary.original_filename}</Link>, uploaded {formatDateTime(summary.created_at)}: the
            patient&apos;s most recent earlier study.
          </p>
          <button type="button" className="button-secondary" aria-pressed={comparing} onClick={() => onComparingChange(!comparing)}>
            {comparing ? 'Stop comparing' : 'Compare side by side'}
          </button>
          {priorError ? <ErrorMessage error={priorError} /> : null}
          {!priorError && prior === undefined && <Loading label="Loading the prior study…" />}
          {prior && (
            <>
              <ModelCaveat study={study} prior={prior} />
              <ChangesTable study={study} prior={prior} />
            </>
          )}
        </>
      )}
    </section>
  );
}
