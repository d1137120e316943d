import { useQueryClient } from '@tanstack/react-query';

import { ErrorMessage } from '@/components/ui/error-message';
import { Loading } from '@/components/ui/loading';
import type { ClinicianReport as Report } from '@/types/api';
import { formatDateTime } from '@/utils/format';

import {
  clinicianReportQueryOptions,
  useClinicianReport,
  useReportAction,
  useReportVersions,
} from '../api/clinician-report';
import { AmendForm, ReportEditor } from './report-editor';
import { ReportSources } from './report-sources';

type ClinicianReportPanelProps = {
  studyId: string;
  selectedLabel: string | null;
  onSelectFinding: (label: string) => void;
};

function statusLine(report: Report): string {
  if (report.status === 'signed') {
    return `Signed by ${report.signed_by ?? '—'} on ${formatDateTime(report.signed_at)} (version ${report.version}): final.`;
  }
  if (report.version === 0) return 'Draft written from the results, not saved yet; the findings are the model’s alone until signed.';
  const amending = report.amendment_reason ? ` Amendment: ${report.amendment_reason}` : '';
  return `Draft, version ${report.version}, saved by ${report.edited_by ?? '—'} on ${formatDateTime(report.updated_at)}; not signed.${amending}`;
}

/** The clinician's report of a study: the draft from the results, edited, signed, amended in versions. */
export function ClinicianReportPanel({ studyId, selectedLabel, onSelectFinding }: ClinicianReportPanelProps) {
  const report = useClinicianReport(studyId);
  const action = useReportAction(studyId);
  const queryClient = useQueryClient();
  const versions = useReportVersions(studyId, { enabled: (report.data?.version ?? 0) > 1 });

  const reload = () => {
    action.reset();
    void queryClient.invalidateQueries({ queryKey: clinicianReportQueryOptions(studyId).queryKey });
  };

  return (
    <section className="card clinician-report" aria-labelledby="clinician-report-heading">
      <h2 id="clinician-report-heading">Clinician&apos;s report</h2>
      {report.isPending && <Loading label="Loading the report…" />}
      {report.isError && <ErrorMessage error={report.error} />}
      {report.isSuccess && (
        <>
          <p className={report.data.status === 'signed' ? 'report-status report-signed' : 'report-status muted'}>
            {statusLine(report.data)}
          </p>
          <ReportSources sentences={report.data.sentences} selectedLabel={selectedLabel} onSelectFinding={onSelectFinding} />
          {report.data.status === 'draft' ? (
            <ReportEditor
              key={`${report.data.version}:${report.data.updated_at ?? ''}`}
              report={report.data}
              pending={action.isPending}
              error={action.error}
              onAct={(next) => action.mutate(next)}
              onReload={reload}
            />
          ) : (
            <>
              <h3>Impression</h3>
              <p className="report-text">{report.data.impression}</p>
              {report.data.text && (
                <>
                  <h3>Report</h3>
                  <p className="report-text">{report.data.text}</p>
                </>
              )}
              <AmendForm report={report.data} pending={action.isPending} error={action.error} onAct={(next) => action.mutate(next)} />
            </>
          )}
          {versions.isSuccess && versions.data.length > 1 && (
            <details className="report-versions">
              <summary>Earlier versions ({versions.data.length - 1})</summary>
              <ol>
                {versions.data
                  .filter((version) => version.version !== report.data.version)
                  .map((version) => (
                    <li key={version.version} value={version.version}>
                      <p className="muted small">{statusLine(version)}</p>
                      <p className="report-text">
                        <strong>Impression:</strong> {version.impression}
                      </p>
                      <p className="report-text">{version.text}</p>
                    </li>
                  ))}
              </ol>
            </details>
          )}
        </>
      )}
    </section>
  );
}
