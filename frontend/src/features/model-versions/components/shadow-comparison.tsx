import { Fragment } from 'react';

import { ErrorMessage } from '@/components/ui/error-message';
import { Loading } from '@/components/ui/loading';
import type { ComparisonFigures } from '@/types/api';
import { displayLabel, formatPercent } from '@/utils/format';

import { useShadowComparison } from '../api/deployments';

function share(value: number | null): string {
  return value === null ? '—' : formatPercent(value);
}

function Figures({ figures }: { figures: ComparisonFigures }) {
  return (
    <>
      <td>{share(figures.agreement_with_active)}</td>
      <td>{figures.mean_absolute_difference === null ? '—' : figures.mean_absolute_difference.toFixed(3)}</td>
      <td>
        {share(figures.agreement_with_clinicians)} <span className="muted">({figures.clinician_answers} answers)</span>
      </td>
    </>
  );
}

/** Per candidate that ran in shadow: its agreement with the active model and with clinicians. */
export function ShadowComparisonTable() {
  const comparison = useShadowComparison();
  if (comparison.isPending) return <Loading label="Loading the comparison…" />;
  if (comparison.isError) return <ErrorMessage error={comparison.error} />;
  if (comparison.data.length === 0) return <p className="muted">No candidate has run in shadow yet.</p>;
  return (
    <div className="table-scroll">
      <table aria-label="Shadow comparison">
        <thead>
          <tr>
            <th scope="col">Finding</th>
            <th scope="col">Same verdict as active</th>
            <th scope="col">Mean |Δ probability|</th>
            <th scope="col">Agrees with clinicians</th>
          </tr>
        </thead>
        <tbody>
          {comparison.data.map((candidate) => (
            <Fragment key={candidate.deployment.id}>
              <tr className="comparison-candidate">
                <th scope="rowgroup" colSpan={4}>
                  {candidate.deployment.model_version.name} {candidate.deployment.model_version.version} with{' '}
                  {candidate.deployment.profile?.identity ?? "the card's thresholds"}: {candidate.studies} studies
                </th>
              </tr>
              <tr>
                <th scope="row">All findings</th>
                <Figures figures={candidate.overall} />
              </tr>
              {candidate.findings.map((finding) => (
                <tr key={finding.label}>
                  <th scope="row">{displayLabel(finding.label)}</th>
                  <Figures figures={finding} />
                </tr>
              ))}
            </Fragment>
          ))}
        </tbody>
      </table>
    </div>
  );
}
