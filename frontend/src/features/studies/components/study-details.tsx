import { useState } from 'react';

import { ErrorMessage } from '@/components/ui/error-message';
import { Loading } from '@/components/ui/loading';
import { displayLabel, formatDateTime } from '@/utils/format';

import { useStudy } from '../api/get-study';
import { isInProgress } from '../utils/study-status';
import { FindingList } from './finding-list';
import { ModelSummary } from './model-summary';
import { RadiographViewer } from './radiograph-viewer';
import { StudyStatusBadge } from './study-status-badge';

export function StudyDetails({ studyId }: { studyId: string }) {
  const study = useStudy(studyId);
  const [selectedLabel, setSelectedLabel] = useState<string | null>(null);

  if (study.isPending) return <Loading label="Loading study…" />;
  if (study.isError) return <ErrorMessage error={study.error} />;

  const data = study.data;
  const selected = data.findings.find((finding) => finding.label === selectedLabel) ?? null;

  return (
    <article className="study">
      <header className="study-header">
        <h1>{data.original_filename}</h1>
        <p>
          Status: <StudyStatusBadge status={data.status} />
          <span className="muted">
            {' '}
            · uploaded {formatDateTime(data.created_at)}
            {data.finished_at && ` · finished ${formatDateTime(data.finished_at)}`}
            {data.width && data.height && ` · ${data.width}×${data.height} px`}
          </span>
        </p>
        {data.cached && <p className="note">From cache: this image was analysed before; the stored result is shown.</p>}
        {data.status === 'failed' && (
          <p className="error" role="alert">
            Analysis failed: {data.message || 'no reason given.'}
          </p>
        )}
        {isInProgress(data.status) && (
          <Loading label={data.status === 'queued' ? 'Waiting for a worker…' : 'Analysing…'} />
        )}
        <ModelSummary model={data.model} />
      </header>
      <div className="study-body">
        <RadiographViewer
          imagePath={data.image}
          fileName={data.original_filename}
          heatmap={selected ? { path: selected.heatmap, name: displayLabel(selected.label) } : null}
        />
        {data.status === 'done' && (
          <FindingList findings={data.findings} selectedLabel={selectedLabel} onSelect={setSelectedLabel} />
        )}
      </div>
    </article>
  );
}
