import { keepPreviousData, queryOptions, useQuery } from '@tanstack/react-query';

import { api } from '@/lib/api-client';
import { fallbackPollInterval, useLiveStatusConnected } from '@/lib/live-status';
import type { Paginated, StudiesQuery, StudySummary } from '@/types/api';
import { hasWorkInProgress } from '@/utils/study-status';

export type StudiesFilter = Required<Pick<StudiesQuery, 'page'>> & Omit<StudiesQuery, 'page'>;

export const studiesQueryOptions = (filter: StudiesFilter, { live }: { live: boolean }) =>
  queryOptions({
    queryKey: ['studies', filter],
    queryFn: ({ signal }) => api.get<Paginated<StudySummary>>('/api/studies/', { params: filter, signal }),
    placeholderData: keepPreviousData,
    // The event stream refreshes the list when a study changes; polling only stands in while it is down.
    refetchInterval: (query) =>
      fallbackPollInterval({
        inProgress: Boolean(query.state.data?.results.some(hasWorkInProgress)),
        live,
      }),
  });

export function useStudies(filter: StudiesFilter) {
  return useQuery(studiesQueryOptions(filter, { live: useLiveStatusConnected() }));
}
