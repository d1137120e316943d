import { useState } from 'react';

import { ErrorMessage } from '@/components/ui/error-message';
import { Field } from '@/components/ui/field';
import { Loading } from '@/components/ui/loading';
import type { Drift, DriftSnapshot } from '@/types/api';
import { formatPercent } from '@/utils/format';

import { type FindingDrift, useDrift } from '../api/get-drift';
import { FindingSelect } from './finding-select';
import { LinePlot, type Series } from './line-plot';

function findingsOf(snapshot: DriftSnapshot): Record<string, FindingDrift> {
  return snapshot.findings as Record<string, FindingDrift>;
}

function over(snapshots: DriftSnapshot[], label: string, key: keyof FindingDrift): [number, number][] {
  return snapshots.flatMap((snapshot, index) => {
    const value = findingsOf(snapshot)[label]?.[key];
    return typeof value === 'number' ? [[index, value] as [number, number]] : [];
  });
}

function DriftState({ drift }: { drift: Drift }) {
  const latest = drift.snapshots.at(-1);
  if (!latest) {
    return (
      <p role="status">
        No daily snapshot yet: Celery beat computes one each night (or <code>make manage ARGS="drift_snapshot"</code>).
      </p>
    );
  }
  return (
    <div role="status" className={latest.drifted ? 'drift-state drifted' : 'drift-state'}>
      <strong>
        {latest.day}: {latest.drifted ? 'Drifted' : 'Not drifted'}
      </strong>{' '}
      ({latest.studies} studies{latest.baseline === null ? '; no acceptance run of this model to compare with' : ''})
      {latest.reasons.length > 0 && (
        <ul>
          {latest.reasons.map((reason) => (
            <li key={reason}>{reason}</li>
          ))}
        </ul>
      )}
    </div>
  );
}

export function MonitoringPage() {
  const [days, setDays] = useState(30);
  const drift = useDrift(days);
  const [finding, setFinding] = useState<string | null>(null);
  if (drift.isPending) return <Loading label="Loading the monitoring snapshots…" />;
  if (drift.isError) return <ErrorMessage error={drift.error} />;
  const { snapshots, thresholds } = drift.data;
  const last = snapshots.at(-1);
  const labels = last ? Object.keys(findingsOf(last)) : [];
  const shown = finding ?? labels[0] ?? '';
  const ticks = snapshots.map((snapshot) => snapshot.day.slice(5));
  const perFinding = (key: keyof FindingDrift): Series[] => [{ name: shown, points: over(snapshots, shown, key) }];
  const latest = last ? findingsOf(last)[shown] : undefined;
  return (
    <div className="page">
      <h1>Monitoring</h1>
      {!drift.data.trained && (
        <p className="error-text">The active model is untrained: its scores carry no clinical meaning.</p>
      )}
      <p>
        {drift.data.model_name} {drift.data.model_version}: each day's scores against the latest
        acceptance run of these weights. A day is drifted when a finding's PSI passes {thresholds.psi}, its KS p-value
        falls below {thresholds.ks_p_value} (with at least {thresholds.min_studies} studies), or the intake refuses more
        than {formatPercent(thresholds.refusal_rate)} of the radiographs.
      </p>
      <DriftState drift={drift.data} />
      <div className="toolbar">
        <Field label="Days">
          <select value={days} onChange={(event) => setDays(Number(event.target.value))}>
            {[7, 30, 90, 365].map((count) => (
              <option key={count} value={count}>
                {count}
              </option>
            ))}
          </select>
        </Field>
        {labels.length > 0 && (
          <FindingSelect label="Finding" findings={labels} value={shown} onChange={setFinding} />
        )}
      </div>
      {snapshots.length > 0 && (
        <div className="plot-row">
          <LinePlot
            title={`Population stability index of ${shown}`}
            xLabel="Day"
            yLabel="PSI"
            xTicks={ticks}
            yMax={Math.max(0.5, ...over(snapshots, shown, 'psi').map(([, value]) => value * 1.1))}
            reference={{ y: thresholds.psi, label: `drifted above ${thresholds.psi}` }}
            series={perFinding('psi')}
          />
          <LinePlot
            title={`Share above threshold and clinicians' agreement, ${shown}`}
            xLabel="Day"
            yLabel="Share"
            xTicks={ticks}
            series={[
              { name: 'above threshold', points: over(snapshots, shown, 'above_threshold') },
              { name: 'clinicians agree', points: over(snapshots, shown, 'agreement'), dashed: true },
            ]}
          />
          <LinePlot
            title="Intake refusal rate"
            xLabel="Day"
            yLabel="Refused"
            xTicks={ticks}
            yMax={Math.max(0.2, ...snapshots.map((snapshot) => (snapshot.refusal_rate ?? 0) * 1.1))}
            reference={{ y: thresholds.refusal_rate, label: 'threshold' }}
            series={[
              {
                name: 'refusal rate',
                points: snapshots.flatMap((snapshot, index) =>
                  snapshot.refusal_rate === null ? [] : [[index, snapshot.refusal_rate] as [number, number]],
                ),
              },
            ]}
          />
          {latest && latest.histogram.length > 0 && (
            <LinePlot
              title={`Score distribution of ${shown}, latest day against the baseline`}
              xLabel="Score"
              yLabel="Share of studies"
              xTicks={latest.histogram.map((_, bin) => (bin / 10).toFixed(1))}
              series={[
                { name: 'latest day', points: latest.histogram.map((share, bin) => [bin, share]) },
                { name: 'acceptance baseline', points: latest.baseline_histogram.map((share, bin) => [bin, share]), dashed: true },
              ]}
            />
          )}
        </div>
      )}
      {snapshots.length > 0 && (
        <table>
          <thead>
            <tr>
              <th>Day</th>
              <th>Studies</th>
              <th>Refused</th>
              <th>PSI ({shown})</th>
              <th>KS p ({shown})</th>
              <th>State</th>
            </tr>
          </thead>
          <tbody>
            {snapshots.map((snapshot) => {
              const entry = findingsOf(snapshot)[shown];
              return (
                <tr key={snapshot.day}>
                  <td>{snapshot.day}</td>
                  <td>{snapshot.studies}</td>
                  <td>{snapshot.refusal_rate === null ? '—' : formatPercent(snapshot.refusal_rate)}</td>
                  <td>{entry?.psi === null || entry?.psi === undefined ? '—' : entry.psi.toFixed(3)}</td>
                  <td>{entry?.ks_p_value === null || entry?.ks_p_value === undefined ? '—' : entry.ks_p_value.toPrecision(2)}</td>
                  <td title={snapshot.reasons.join(' ')}>{snapshot.drifted ? 'Drifted' : 'OK'}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
    </div>
  );
}
