import { Link } from 'react-router';

import { paths } from '@/config/paths';
import type { StudySummary } from '@/types/api';
import { formatDateTime } from '@/utils/format';

import { StudyStatusBadge } from './study-status-badge';

function StudyNote({ study }: { study: StudySummary }) {
  if (study.status === 'failed') return <span className="error-text">{study.message || 'Analysis failed.'}</span>;
  if (study.cached) return <span className="muted">From cache</span>;
  return null;
}

export function StudiesTable({ studies }: { studies: StudySummary[] }) {
  return (
    <div className="table-scroll">
      <table className="studies-table" aria-label="My studies">
        <thead>
          <tr>
            <th scope="col">File</th>
            <th scope="col">Status</th>
            <th scope="col">Uploaded</th>
            <th scope="col">Finished</th>
            <th scope="col">Note</th>
          </tr>
        </thead>
        <tbody>
          {studies.map((study) => (
            <tr key={study.id}>
              <td>
                <Link to={paths.study(study.id)}>{study.original_filename}</Link>
              </td>
              <td>
                <StudyStatusBadge status={study.status} />
              </td>
              <td>{formatDateTime(study.created_at)}</td>
              <td>{formatDateTime(study.finished_at)}</td>
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
