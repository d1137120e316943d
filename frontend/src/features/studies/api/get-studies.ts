import { keepPreviousData, queryOptions, useQuery } from '@tanstack/react-query';

import { api } from '@/lib/api-client';
import type { Paginated, StudyStatus, StudySummary } from '@/types/api';

import { isInProgress } from '../utils/study-status';

export const POLL_INTERVAL_MS = 2_000;

/** Poll while any listed study may still change. */
export function studiesPollInterval(data: Paginated<StudySummary> | undefined): number | false {
  return data?.results.some((study) => isInProgress(study.status)) ? POLL_INTERVAL_MS : false;
}

export type StudiesFilter = { page: number; status?: StudyStatus };

export const studiesQueryOptions = ({ page, status }: StudiesFilter) =>
  queryOptions({
    queryKey: ['studies', { page, status }],
    queryFn: ({ signal }) =>
      api.get<Paginated<StudySummary>>('/api/studies/', { params: { page, status }, signal }),
    placeholderData: keepPreviousData,
    refetchInterval: (query) => studiesPollInterval(query.state.data),
  });

export function useStudies(filter: StudiesFilter) {
  return useQuery(studiesQueryOptions(filter));
}
