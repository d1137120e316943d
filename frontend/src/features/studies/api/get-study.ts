import { queryOptions, useQuery } from '@tanstack/react-query';

import { api } from '@/lib/api-client';
import { fallbackPollInterval, useLiveStatusConnected } from '@/lib/live-status';
import type { Study } from '@/types/api';
import { hasWorkInProgress } from '@/utils/study-status';

export const studyQueryOptions = (id: string, { live }: { live: boolean }) =>
  queryOptions({
    queryKey: ['study', id],
    queryFn: ({ signal }) => api.get<Study>(`/api/studies/${encodeURIComponent(id)}/`, { signal }),
    refetchInterval: (query) =>
      fallbackPollInterval({ inProgress: Boolean(query.state.data && hasWorkInProgress(query.state.data)), live }),
  });

/** A study by id; `enabled: false` waits for an id (the prior study, once the current one names it). */
export function useStudy(id: string, { enabled = true }: { enabled?: boolean } = {}) {
  return useQuery({ ...studyQueryOptions(id, { live: useLiveStatusConnected() }), enabled });
}
