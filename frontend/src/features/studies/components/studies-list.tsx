import { ErrorMessage } from '@/components/ui/error-message';
import { Loading } from '@/components/ui/loading';
import type { StudyStatus } from '@/types/api';

import { useStudies } from '../api/get-studies';
import { StudiesPagination } from './studies-pagination';
import { StudiesTable } from './studies-table';
import { StudyStatusFilter } from './study-status-filter';

type StudiesListProps = {
  page: number;
  status: StudyStatus | undefined;
  onPageChange: (page: number) => void;
  onStatusChange: (status: StudyStatus | undefined) => void;
};

export function StudiesList({ page, status, onPageChange, onStatusChange }: StudiesListProps) {
  const studies = useStudies({ page, status });

  return (
    <section className="studies" aria-labelledby="studies-heading">
      <div className="section-header">
        <h2 id="studies-heading">My studies</h2>
        <StudyStatusFilter value={status} onChange={onStatusChange} />
      </div>
      {studies.isPending && <Loading label="Loading studies…" />}
      {studies.isError && <ErrorMessage error={studies.error} />}
      {studies.data && studies.data.results.length === 0 && (
        <p className="muted">{status ? 'No studies with this status.' : 'No studies yet. Upload a radiograph to start.'}</p>
      )}
      {studies.data && studies.data.results.length > 0 && (
        <>
          <StudiesTable studies={studies.data.results} />
          <StudiesPagination
            page={page}
            hasPrevious={studies.data.previous !== null}
            hasNext={studies.data.next !== null}
            onPageChange={onPageChange}
          />
        </>
      )}
    </section>
  );
}
