import { queryOptions, useQuery } from '@tanstack/react-query';

import { api } from '@/lib/api-client';
import type { Drift } from '@/types/api';

/** Per finding of a snapshot (monitoring.drift); the schema carries them as one JSON object. */
export type FindingDrift = {
  studies: number;
  psi: number | null;
  ks_statistic: number | null;
  ks_p_value: number | null;
  above_threshold: number | null;
  agreement: number | null;
  histogram: number[];
  baseline_histogram: number[];
};

export function useDrift(days: number) {
  return useQuery(
    queryOptions({
      queryKey: ['drift', days],
      queryFn: ({ signal }) => api.get<Drift>(`/api/monitoring/drift/?days=${days}`, { signal }),
    }),
  );
}
