import { queryOptions, useQuery } from '@tanstack/react-query';

import { api } from '@/lib/api-client';
import { ApiError } from '@/lib/api-error';
import type { Health } from '@/types/api';

// A degraded service may answer 503 with the same body; it still says which model is active.
async function getHealth(signal: AbortSignal): Promise<Health> {
  const response = await api.request('/api/health/', { auth: false, throwOnError: false, signal });
  const body = (await response.json().catch(() => null)) as Health | null;
  if (body?.checks?.model) return body;
  throw new ApiError(response.status, `Health check failed (HTTP ${response.status}).`);
}

export const healthQueryOptions = () =>
  queryOptions({
    queryKey: ['health'],
    queryFn: ({ signal }) => getHealth(signal),
    refetchInterval: 60_000,
  });

export function useHealth() {
  return useQuery(healthQueryOptions());
}

/** False when the active model reports trained: false; undefined while unknown. */
export function useActiveModelTrained(): boolean | undefined {
  return useHealth().data?.checks.model.trained;
}
