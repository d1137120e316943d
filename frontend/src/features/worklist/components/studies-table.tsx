import { Link } from 'react-router';

import { StudyStatusBadge } from '@/components/study-status-badge';
import { paths } from '@/config/paths';
import type { StudySummary } from '@/types/api';
import { displayLabel, formatDateTime, formatPercent, formatPercentPair, formatSex } from '@/utils/format';

import { ScreenerFlag } from './screener-flag';
import { TriageReason } from './triage-reason';

function StudyNote({ study }: { study: StudySummary }) {
  if (study.status === 'failed') return <span className="error-text">{study.message || 'Analysis failed.'}</span>;
  if (study.cached) return <span className="muted">From cache</span>;
  return null;
}

function PositiveFindings({ labels }: { labels: readonly string[] }) {
  if (labels.length === 0) return <span className="muted">None</span>;
  return (
    <ul className="tag-list">
      {labels.map((label) => (
        <li key={label} className="tag tag-positive">
          {displayLabel(label)}
        </li>
      ))}
    </ul>
  );
}

const CT_FINDING = 'Severe involvement';

/** A CT study's patient-level result where a radiograph's most suspicious finding goes. */
function CTResultCell({ ct }: { ct: NonNullable<StudySummary['ct_result']> }) {
  if (ct.patient_probability === null || ct.threshold === null) return <span className="muted">—</span>;
  const [probability, threshold] = formatPercentPair(ct.patient_probability, ct.threshold);
  return (
    <span>
      {CT_FINDING} {probability} <span className="muted">(threshold {threshold})</span>
      {ct.trained === false && <span className="muted"> · untrained CT model</span>}
    </span>
  );
}

/** Age and sex as the key image's DICOM file gave them ("62 y, Male"); a PNG or JPEG says neither. */
function PatientFacts({ study }: { study: StudySummary }) {
  const facts = [study.patient_age_years === null ? null : `${study.patient_age_years} y`, formatSex(study.patient_sex)].filter(Boolean);
  if (facts.length === 0) return <span className="muted">Not recorded</span>;
  return <span>{facts.join(', ')}</span>;
}

type StudiesTableProps = {
  studies: StudySummary[];
  label: string;
  /** Say who uploaded each study (an admin's list of everyone's). */
  showUploader?: boolean;
};

export function StudiesTable({ studies, label, showUploader = false }: StudiesTableProps) {
  return (
    <div className="table-scroll">
      <table className="studies-table" aria-label={label}>
        <thead>
          <tr>
            <th scope="col">File</th>
            <th scope="col">Patient</th>
            <th scope="col">View</th>
            <th scope="col">Status</th>
            <th scope="col">Most suspicious finding</th>
            <th scope="col">Above threshold</th>
            <th scope="col">Screener</th>
            <th scope="col">Uploaded</th>
            {showUploader && <th scope="col">Uploaded by</th>}
            <th scope="col">Why here</th>
            <th scope="col">Note</th>
          </tr>
        </thead>
        <tbody>
          {studies.map((study) => (
            <tr key={study.id}>
              <td>
                <Link to={paths.study(study.id)}>{study.original_filename}</Link>
                {study.kind === 'ct' && (
                  <>
                    {' '}
                    <span className="tag" title="A chest CT series, scored by the CT model">
                      CT
                    </span>
                  </>
                )}
                {study.image_count > 1 && <span className="muted"> · {study.image_count} images</span>}
              </td>
              <td>
                <PatientFacts study={study} />
              </td>
              <td>{study.view_position ?? <span className="muted">—</span>}</td>
              <td>
                <StudyStatusBadge status={study.status} />
              </td>
              <td>
                {study.ct_result ? (
                  <CTResultCell ct={study.ct_result} />
                ) : study.top_finding ? (
                  <span>
                    {displayLabel(study.top_finding.label)} {formatPercent(study.top_finding.probability)},{' '}
                    <span className="finding-score">score {formatPercent(study.top_finding.calibrated_score)}</span>
                    {study.threshold_profile && (
                      <span className="muted" title="The site threshold profile the score is calibrated to">
                        {' '}
                        ({study.threshold_profile.identity})
                      </span>
                    )}
                  </span>
                ) : (
                  <span className="muted">—</span>
                )}
              </td>
              <td>
                {study.status !== 'done' ? (
                  <span className="muted">—</span>
                ) : study.ct_result ? (
                  <PositiveFindings labels={study.ct_result.positive ? [CT_FINDING] : []} />
                ) : (
                  <PositiveFindings labels={study.positive_labels} />
                )}
              </td>
              <td>
                <ScreenerFlag screener={study.screener} />
              </td>
              <td>{formatDateTime(study.created_at)}</td>
              {showUploader && <td>{study.uploaded_by}</td>}
              <td>
                <TriageReason study={study} />
              </td>
              <td>
                <StudyNote study={study} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
