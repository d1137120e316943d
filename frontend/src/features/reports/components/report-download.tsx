import { type FormEvent, useState } from 'react';

import { ErrorMessage } from '@/components/ui/error-message';
import type { Study } from '@/types/api';
import { displayLabel } from '@/utils/format';

import { useDownloadReport } from '../api/download-report';

/** Choose the findings whose heatmaps go in the PDF (the positive ones to begin with) and download it. */
export function ReportDownload({ study }: { study: Study }) {
  const [chosen, setChosen] = useState<string[]>(() =>
    study.findings.filter((finding) => finding.positive).map((finding) => finding.label),
  );
  const download = useDownloadReport();

  const toggle = (label: string, checked: boolean) =>
    setChosen((current) => (checked ? [...current, label] : current.filter((item) => item !== label)));

  const handleSubmit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const order = study.findings.map((finding) => finding.label);
    download.mutate({ studyId: study.id, labels: order.filter((label) => chosen.includes(label)) });
  };

  return (
    <form className="card report-form" onSubmit={handleSubmit} aria-labelledby="report-heading">
      <h2 id="report-heading">Report</h2>
      <p className="muted">
        A PDF made on the server: the radiograph, the heatmaps chosen here, every finding against its threshold, the model
        card, and who made it when.
      </p>
      <fieldset>
        <legend>Heatmaps in the report</legend>
        <div className="checkbox-grid">
          {study.findings.map((finding) => (
            <label key={finding.label} className="checkbox-field">
              <input
                type="checkbox"
                checked={chosen.includes(finding.label)}
                onChange={(event) => toggle(finding.label, event.target.checked)}
              />
              {displayLabel(finding.label)}
            </label>
          ))}
        </div>
      </fieldset>
      {download.isError && <ErrorMessage error={download.error} />}
      <div className="form-actions">
        <button type="submit" className="button-primary" disabled={download.isPending}>
          Download PDF report
        </button>
        <span role="status" className="muted">
          {download.isPending ? 'Making the report…' : download.isSuccess ? 'Report downloaded.' : ''}
        </span>
      </div>
    </form>
  );
}
