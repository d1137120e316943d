import { Link } from 'react-router';

import { StudyStatusBadge } from '@/components/study-status-badge';
import { paths } from '@/config/paths';

import { useStudyStatus } from '../api/get-study-status';

export type UploadResult =
  | { key: number; fileName: string; state: 'waiting' }
  | { key: number; fileName: string; state: 'uploading'; percent: number }
  | { key: number; fileName: string; state: 'queued' | 'cached'; studyId: string }
  | { key: number; fileName: string; state: 'error'; message: string };

/** An uploaded file's study, its status kept current by the event stream: Queued, Running, Done or Failed. */
function UploadedStudy({ fileName, studyId, cached }: { fileName: string; studyId: string; cached: boolean }) {
  const { data } = useStudyStatus(studyId, cached ? 'done' : 'queued');
  return (
    <>
      <StudyStatusBadge status={data.status} />
      {cached && <span className="muted"> (from cache)</span>}{' '}
      <Link to={paths.study(studyId)} aria-label={`Open study ${fileName}`}>
        Open
      </Link>
    </>
  );
}

function ResultOutcome({ result }: { result: UploadResult }) {
  switch (result.state) {
    case 'waiting':
      return <span className="muted">Waiting…</span>;
    case 'uploading':
      return (
        <>
          <progress max={100} value={result.percent} aria-label={`Uploading ${result.fileName}`} />
          <span>Uploading… {result.percent}%</span>
        </>
      );
    case 'queued':
    case 'cached':
      return <UploadedStudy fileName={result.fileName} studyId={result.studyId} cached={result.state === 'cached'} />;
    case 'error':
      return (
        <span className="error-text" role="alert">
          {result.message}
        </span>
      );
  }
}

export function UploadResults({ results }: { results: UploadResult[] }) {
  if (results.length === 0) return null;
  return (
    <ul className="upload-results" aria-label="Upload results">
      {results.map((result) => (
        <li key={result.key} className={`upload-result upload-${result.state}`}>
          <span className="upload-file-name">{result.fileName}</span>
          <span className="upload-outcome">
            <ResultOutcome result={result} />
          </span>
        </li>
      ))}
    </ul>
  );
}
