import { useSearchParams } from 'react-router';

import { StudiesList } from '@/features/studies/components/studies-list';
import { UploadRadiographs } from '@/features/studies/components/upload-radiographs';
import { STUDY_STATUSES, type StudyStatus } from '@/types/api';

function parsePage(value: string | null): number {
  const page = Number(value);
  return Number.isInteger(page) && page > 0 ? page : 1;
}

function parseStatus(value: string | null): StudyStatus | undefined {
  return STUDY_STATUSES.find((status) => status === value);
}

export function StudiesRoute() {
  const [searchParams, setSearchParams] = useSearchParams();
  const page = parsePage(searchParams.get('page'));
  const status = parseStatus(searchParams.get('status'));

  const setFilter = (next: { page: number; status: StudyStatus | undefined }) => {
    const params = new URLSearchParams();
    if (next.page > 1) params.set('page', String(next.page));
    if (next.status) params.set('status', next.status);
    setSearchParams(params);
  };

  return (
    <div className="studies-page">
      <UploadRadiographs />
      <StudiesList
        page={page}
        status={status}
        onPageChange={(nextPage) => setFilter({ page: nextPage, status })}
        onStatusChange={(nextStatus) => setFilter({ page: 1, status: nextStatus })}
      />
    </div>
  );
}
