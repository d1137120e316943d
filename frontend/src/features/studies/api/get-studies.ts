import { keepPreviousData, queryOptions, useQuery } from '@tanstack/react-query';

import { api } from '@/lib/api-client';
import type { Paginated, StudiesQuery, StudySummary } from '@/types/api';

import { isInProgress } from '../utils/study-status';

export const POLL_INTERVAL_MS = 2_000;

/** Poll while any listed study may still change: the worklist's live status. */
export function studiesPollInterval(data: Paginated<StudySummary> | undefined): number | false {
  return data?.results.some((study) => isInProgress(study.status)) ? POLL_INTERVAL_MS : false;
}

export type StudiesFilter = Required<Pick<StudiesQuery, 'page'>> & Omit<StudiesQuery, 'page'>;

export const studiesQueryOptions = (filter: StudiesFilter) =>
  queryOptions({
    queryKey: ['studies', filter],
    queryFn: ({ signal }) => api.get<Paginated<StudySummary>>('/api/studies/', { params: filter, signal }),
    placeholderData: keepPreviousData,
    refetchInterval: (query) => studiesPollInterval(query.state.data),
  });

export function useStudies(filter: StudiesFilter) {
  return useQuery(studiesQueryOptions(filter));
}
