import { CalibratedScoreLegend } from '@/components/calibrated-score-legend';
import { ErrorMessage } from '@/components/ui/error-message';
import { Loading } from '@/components/ui/loading';
import { Pagination } from '@/components/ui/pagination';

import { useStudies } from '../api/get-studies';
import { ScreenerLegend } from './screener-flag';
import { TriageLegend } from './triage-reason';
import { StudiesFilters, type WorklistFilter } from './studies-filters';
import { StudiesTable } from './studies-table';

export const STUDIES_PAGE_SIZE = 20;

type StudiesListProps = {
  title: string;
  page: number;
  filter: WorklistFilter;
  labels: readonly string[];
  onPageChange: (page: number) => void;
  onFilterChange: (filter: WorklistFilter) => void;
  /** An admin's list holds everyone's studies: it says who uploaded each. */
  showUploader?: boolean;
};

function isFiltered(filter: WorklistFilter): boolean {
  return Boolean(filter.status || filter.positive || filter.createdAfter || filter.createdBefore);
}

export function StudiesList({ title, page, filter, labels, onPageChange, onFilterChange, showUploader = false }: StudiesListProps) {
  const studies = useStudies({
    page,
    status: filter.status,
    positive: filter.positive,
    created_after: filter.createdAfter,
    created_before: filter.createdBefore,
    ordering: filter.ordering,
  });

  return (
    <section className="studies" aria-labelledby="studies-heading">
      <div className="section-header">
        <h2 id="studies-heading">{title}</h2>
        {studies.data && (
          <span className="muted">
            {studies.data.count} {studies.data.count === 1 ? 'study' : 'studies'}
          </span>
        )}
      </div>
      <StudiesFilters value={filter} labels={labels} onChange={onFilterChange} />
      {studies.isPending && <Loading label="Loading studies…" />}
      {studies.isError && <ErrorMessage error={studies.error} />}
      {studies.data && studies.data.results.length === 0 && (
        <p className="muted">
          {isFiltered(filter) ? 'No studies match these filters.' : 'No studies yet. Upload a radiograph to start.'}
        </p>
      )}
      {studies.data && studies.data.results.length > 0 && (
        <>
          <StudiesTable studies={studies.data.results} label={title} showUploader={showUploader} />
          <CalibratedScoreLegend />
          <ScreenerLegend />
          <TriageLegend />
          <Pagination
            label="Studies pages"
            page={page}
            count={studies.data.count}
            pageSize={STUDIES_PAGE_SIZE}
            hasPrevious={Boolean(studies.data.previous)}
            hasNext={Boolean(studies.data.next)}
            onPageChange={onPageChange}
          />
        </>
      )}
    </section>
  );
}
