import { queryOptions, useQuery } from '@tanstack/react-query';

import { api } from '@/lib/api-client';
import type { Study } from '@/types/api';

import { isInProgress } from '../utils/study-status';
import { POLL_INTERVAL_MS } from './get-studies';

export const studyQueryOptions = (id: string) =>
  queryOptions({
    queryKey: ['study', id],
    queryFn: ({ signal }) => api.get<Study>(`/api/studies/${encodeURIComponent(id)}/`, { signal }),
    refetchInterval: (query) => (query.state.data && isInProgress(query.state.data.status) ? POLL_INTERVAL_MS : false),
  });

export function useStudy(id: string) {
  return useQuery(studyQueryOptions(id));
}
