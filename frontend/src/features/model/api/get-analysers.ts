import { queryOptions, useQuery } from '@tanstack/react-query';

import { api } from '@/lib/api-client';
import type { AnalyserCard } from '@/types/api';

export const analyserCardsQueryOptions = () =>
  queryOptions({
    queryKey: ['model-analysers'],
    queryFn: ({ signal }) => api.get<AnalyserCard[]>('/api/model/analysers/', { signal }),
    staleTime: 5 * 60_000,
  });

/** The installed analysers beside the classifier (segmentation, screener), each with its own card. */
export function useAnalyserCards() {
  return useQuery(analyserCardsQueryOptions());
}
