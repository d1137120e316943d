import { type FormEvent, useState } from 'react';

import { ErrorMessage } from '@/components/ui/error-message';
import { Field } from '@/components/ui/field';
import { Loading } from '@/components/ui/loading';
import type { AcceptanceRun, AcceptanceSource } from '@/types/api';
import { displayLabel, formatDateTime, formatPercent } from '@/utils/format';

import {
  type AcceptanceResult,
  type Check,
  downloadThresholdProfile,
  type FindingFigures,
  useAcceptanceRun,
  useAcceptanceRuns,
  useInstalledWeights,
  useStartAcceptanceRun,
} from '../api/acceptance-runs';
import { FindingSelect } from './finding-select';
import { LinePlot } from './line-plot';

function number(value: number | null | undefined, digits = 3): string {
  return value === null || value === undefined ? '—' : value.toFixed(digits);
}

function StartForm({ onStarted }: { onStarted: (id: number) => void }) {
  const start = useStartAcceptanceRun();
  const weights = useInstalledWeights();
  const [modelVersion, setModelVersion] = useState<number | null>(null);
  const [source, setSource] = useState<AcceptanceSource>('upload');
  const [images, setImages] = useState<File>();
  const [labels, setLabels] = useState<File>();
  const [targets, setTargets] = useState('auroc=0.80,sensitivity=0.90');
  const [thresholdRule, setThresholdRule] = useState('sensitivity:0.9');
  const submit = (event: FormEvent) => {
    event.preventDefault();
    start.mutate({ source, modelVersion, images, labels, targets, thresholdRule }, { onSuccess: (run) => onStarted(run.id) });
  };
  return (
    <form className="card" onSubmit={submit} aria-labelledby="start-acceptance-heading">
      <h2 id="start-acceptance-heading">Run an acceptance</h2>
      <p>
        A labelled local set goes through the service's own pipeline (the intake's screening, then the classifier) on
        the analysis worker. Per finding you get the AUROC with its 95% CI, sensitivity and specificity at the current
        threshold, the calibration and whether your targets are met.
      </p>
      <Field label="Model to accept">
        <select
          value={modelVersion ?? ''}
          onChange={(event) => setModelVersion(event.target.value === '' ? null : Number(event.target.value))}
        >
          <option value="">The active model (with its site thresholds)</option>
          {(weights.data ?? []).map((version) => (
            <option key={version.id} value={version.id}>
              {version.name} {version.version}
              {version.trained ? '' : ' (untrained)'}: installed weights, their card&apos;s thresholds
            </option>
          ))}
        </select>
      </Field>
      <Field label="Labelled set">
        <select value={source} onChange={(event) => setSource(event.target.value as AcceptanceSource)}>
          <option value="upload">A zip of radiographs and a labels CSV</option>
          <option value="feedback">This site's studies, labelled by clinicians' verdicts</option>
        </select>
      </Field>
      {source === 'upload' && (
        <>
          <Field label="Radiographs (zip of PNG, JPEG or DICOM)">
            <input type="file" accept=".zip,application/zip" onChange={(event) => setImages(event.target.files?.[0])} />
          </Field>
          <Field label="Labels CSV (image, then one 0/1 column per finding; or NIH's layout)">
            <input type="file" accept=".csv,text/csv" onChange={(event) => setLabels(event.target.files?.[0])} />
          </Field>
        </>
      )}
      <Field label="Targets">
        <input value={targets} onChange={(event) => setTargets(event.target.value)} />
      </Field>
      <Field label="Rule for the site's thresholds (sensitivity:0.9, f1, youden)">
        <input value={thresholdRule} onChange={(event) => setThresholdRule(event.target.value)} />
      </Field>
      <button type="submit" disabled={start.isPending}>
        {start.isPending ? 'Checking the set…' : 'Start the acceptance run'}
      </button>
      {start.isError && <ErrorMessage error={start.error} />}
    </form>
  );
}

function checkText(checks: Check[]): string {
  return checks.map((check) => `${check.metric} ${number(check.value)} (${check.target})${check.met ? '' : ' ✗'}`).join('; ');
}

function FindingRow({ label, figures, result }: { label: string; figures: FindingFigures; result: AcceptanceResult }) {
  const verdict = result.acceptance.findings[label];
  const chosen = result.chosen_thresholds[label];
  return (
    <tr>
      <th scope="row">{displayLabel(label)}</th>
      <td>
        {figures.positives}/{figures.positives + figures.negatives}
      </td>
      <td>
        {number(figures.auroc)}
        {figures.auroc_ci95 && ` [${number(figures.auroc_ci95[0])}, ${number(figures.auroc_ci95[1])}]`}
      </td>
      <td>{number(figures.threshold, 2)}</td>
      <td>{number(figures.tpr)}</td>
      <td>{number(figures.tnr)}</td>
      <td>{number(figures.calibration?.ece)}</td>
      <td>{chosen ? `${number(chosen.threshold)} (sens. ${number(chosen.sensitivity, 2)})` : '—'}</td>
      <td className={verdict?.meets_targets ? 'met' : 'not-met'} title={verdict ? checkText(verdict.checks) : ''}>
        {verdict?.meets_targets ? 'Meets' : 'Does not meet'}
      </td>
    </tr>
  );
}

function FindingPlots({ label, figures }: { label: string; figures: FindingFigures }) {
  const calibration = figures.calibration;
  const calibrationPoints: [number, number][] = calibration
    ? calibration.mean_probability.flatMap((mean, bin) => {
        const observed = calibration.observed_fraction[bin];
        return mean === null || observed === null ? [] : [[mean, observed] as [number, number]];
      })
    : [];
  return (
    <div className="plot-row">
      {figures.roc && (
        <LinePlot
          title={`ROC curve of ${displayLabel(label)}`}
          xLabel="1 − specificity"
          yLabel="Sensitivity"
          diagonal
          series={[{ name: label, points: figures.roc.fpr.map((fpr, index) => [fpr, figures.roc?.tpr[index] ?? 0]) }]}
        />
      )}
      {calibration && (
        <LinePlot
          title={`Calibration of ${displayLabel(label)} (ECE ${number(calibration.ece)})`}
          xLabel="Mean predicted probability"
          yLabel="Observed fraction positive"
          diagonal
          series={[{ name: label, points: calibrationPoints }]}
        />
      )}
    </div>
  );
}

function RunResult({ run }: { run: AcceptanceRun }) {
  const [profileName, setProfileName] = useState('site');
  const [profileError, setProfileError] = useState<unknown>(null);
  const result = run.result as AcceptanceResult | null;
  const card = run.model_card as { name: string; version: string; trained: boolean } | null;
  const [plotted, setPlotted] = useState<string | null>(null);
  if (run.status === 'queued' || run.status === 'running') {
    return <Loading label={`Acceptance run ${run.id} is ${run.status}…`} />;
  }
  if (run.status === 'failed' || !result) return <p className="error">Run {run.id} failed: {run.message}</p>;
  const labels = Object.keys(result.findings);
  const shown = plotted ?? labels[0];
  return (
    <section className="card" aria-labelledby="run-result-heading">
      <h2 id="run-result-heading">
        Acceptance run {run.id}: {result.acceptance.accepted ? 'accepted' : 'not accepted'} at this site
      </h2>
      {card && !card.trained && (
        <p className="error-text">
          The model {card.name} {card.version} is untrained: these figures test the procedure, not a model.
        </p>
      )}
      <p>
        {result.cases} cases, {result.scored} scored; the intake refused {formatPercent(result.refusal_rate)}
        {Object.keys(result.refused).length > 0 && ` (${Object.keys(result.refused).join(', ')})`}. Targets: {run.targets}.
        {result.acceptance.set_checks.length > 0 && ` Set: ${checkText(result.acceptance.set_checks)}.`}
      </p>
      <table>
        <thead>
          <tr>
            <th>Finding</th>
            <th>Positives</th>
            <th>AUROC [95% CI]</th>
            <th>Threshold</th>
            <th>Sensitivity</th>
            <th>Specificity</th>
            <th>ECE</th>
            <th>Site threshold ({result.threshold_rule})</th>
            <th>Targets</th>
          </tr>
        </thead>
        <tbody>
          {Object.entries(result.findings).map(([label, figures]) => (
            <FindingRow key={label} label={label} figures={figures} result={result} />
          ))}
        </tbody>
      </table>
      <FindingSelect label="Plots of" findings={labels} value={shown ?? ''} onChange={setPlotted} />
      {shown && result.findings[shown] && <FindingPlots label={shown} figures={result.findings[shown]} />}
      <h3>Site thresholds</h3>
      <p>
        Download the thresholds chosen by {result.threshold_rule} as a threshold profile bound to these weights; install
        and activate it on the model's deployments page.
      </p>
      <Field label="Profile name">
        <input value={profileName} onChange={(event) => setProfileName(event.target.value)} />
      </Field>
      <button
        type="button"
        onClick={() => {
          setProfileError(null);
          downloadThresholdProfile(run.id, profileName).catch(setProfileError);
        }}
      >
        Download the threshold profile
      </button>
      {profileError !== null && <ErrorMessage error={profileError} />}
    </section>
  );
}

export function AcceptancePage() {
  const runs = useAcceptanceRuns();
  const [selected, setSelected] = useState<number | null>(null);
  const shown = selected ?? runs.data?.[0]?.id ?? null;
  const run = useAcceptanceRun(shown);
  return (
    <div className="page">
      <h1>Site acceptance</h1>
      <StartForm onStarted={setSelected} />
      <section className="card" aria-labelledby="runs-heading">
        <h2 id="runs-heading">Runs</h2>
        {runs.isPending && <Loading label="Loading the runs…" />}
        {runs.isError && <ErrorMessage error={runs.error} />}
        {runs.data?.length === 0 && <p>No acceptance run yet.</p>}
        {runs.data && runs.data.length > 0 && (
          <table>
            <thead>
              <tr>
                <th>Run</th>
                <th>Started</th>
                <th>By</th>
                <th>Model</th>
                <th>Set</th>
                <th>Status</th>
                <th>Verdict</th>
              </tr>
            </thead>
            <tbody>
              {runs.data.map((row) => (
                <tr key={row.id} aria-selected={row.id === shown}>
                  <td>
                    <button type="button" className="link" onClick={() => setSelected(row.id)}>
                      Run {row.id}
                    </button>
                  </td>
                  <td>{formatDateTime(row.created_at)}</td>
                  <td>{row.created_by}</td>
                  <td>{row.model}</td>
                  <td>{row.source === 'upload' ? 'Uploaded set' : 'Clinicians’ verdicts'}</td>
                  <td>{row.status}</td>
                  <td>{row.accepted === null ? '—' : row.accepted ? 'Accepted' : 'Not accepted'}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>
      {run.data && <RunResult run={run.data} />}
      {run.isError && <ErrorMessage error={run.error} />}
    </div>
  );
}
