import { queryOptions, useQuery } from '@tanstack/react-query';

import { api } from '@/lib/api-client';
import type { ModelCard } from '@/types/api';

export const modelCardQueryOptions = () =>
  queryOptions({
    queryKey: ['model-card'],
    queryFn: ({ signal }) => api.get<ModelCard>('/api/model/', { signal }),
    staleTime: 5 * 60_000,
  });

/** The active model's card: its labels, thresholds, training data and validation figures. */
export function useModelCard() {
  return useQuery(modelCardQueryOptions());
}
