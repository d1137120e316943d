import { queryOptions, useQuery } from '@tanstack/react-query';

import { api } from '@/lib/api-client';
import type { Me } from '@/types/api';

export const meQueryOptions = () =>
  queryOptions({
    queryKey: ['me'],
    queryFn: ({ signal }) => api.get<Me>('/api/auth/me/', { signal }),
    staleTime: 5 * 60_000,
  });

export function useMe() {
  return useQuery(meQueryOptions());
}

/** True for admins, false for clinicians, undefined until the user is known. */
export function useIsAdmin(): boolean | undefined {
  const me = useMe();
  return me.data ? me.data.role === 'admin' : undefined;
}
