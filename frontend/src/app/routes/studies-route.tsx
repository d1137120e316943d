import { useSearchParams } from 'react-router';

import { useIsAdmin } from '@/features/auth/api/get-me';
import { useModelCard } from '@/features/model/api/get-model-card';
import { UploadRadiographs } from '@/features/studies/components/upload-radiographs';
import { ORDERING_TEXT, type WorklistFilter } from '@/features/worklist/components/studies-filters';
import { StudiesList } from '@/features/worklist/components/studies-list';
import { STUDY_STATUSES, type StudyOrdering } from '@/types/api';
import { useDocumentTitle } from '@/hooks/use-document-title';

const DATE = /^\d{4}-\d{2}-\d{2}$/;

function parsePage(value: string | null): number {
  const page = Number(value);
  return Number.isInteger(page) && page > 0 ? page : 1;
}

// The worklist's state lives in the address, so a filtered, sorted page can be reloaded and shared.
function parseFilter(params: URLSearchParams): WorklistFilter {
  const date = (name: string) => {
    const value = params.get(name);
    return value && DATE.test(value) ? value : undefined;
  };
  const ordering = params.get('sort');
  return {
    status: STUDY_STATUSES.find((status) => status === params.get('status')),
    positive: params.get('positive') || undefined,
    createdAfter: date('from'),
    createdBefore: date('to'),
    ordering: ordering && ordering in ORDERING_TEXT ? (ordering as StudyOrdering) : '-created_at',
  };
}

function toParams(page: number, filter: WorklistFilter): URLSearchParams {
  const params = new URLSearchParams();
  if (page > 1) params.set('page', String(page));
  if (filter.status) params.set('status', filter.status);
  if (filter.positive) params.set('positive', filter.positive);
  if (filter.createdAfter) params.set('from', filter.createdAfter);
  if (filter.createdBefore) params.set('to', filter.createdBefore);
  if (filter.ordering !== '-created_at') params.set('sort', filter.ordering);
  return params;
}

export function StudiesRoute() {
  useDocumentTitle('Studies');
  const [searchParams, setSearchParams] = useSearchParams();
  const page = parsePage(searchParams.get('page'));
  const filter = parseFilter(searchParams);
  const isAdmin = useIsAdmin();
  const modelCard = useModelCard();

  return (
    <div className="studies-page">
      <UploadRadiographs />
      <StudiesList
        title={isAdmin ? 'All studies' : 'My studies'}
        showUploader={isAdmin}
        page={page}
        filter={filter}
        labels={modelCard.data?.labels ?? []}
        onPageChange={(nextPage) => setSearchParams(toParams(nextPage, filter))}
        onFilterChange={(nextFilter) => setSearchParams(toParams(1, nextFilter))}
      />
    </div>
  );
}
