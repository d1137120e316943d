import { keepPreviousData, queryOptions, useQuery } from '@tanstack/react-query';

import { api } from '@/lib/api-client';
import type { AuditEvent, AuditQuery, Paginated } from '@/types/api';

export const auditEventsQueryOptions = (query: AuditQuery) =>
  queryOptions({
    queryKey: ['audit-events', query],
    queryFn: ({ signal }) => api.get<Paginated<AuditEvent>>('/api/audit/', { params: query, signal }),
    placeholderData: keepPreviousData,
  });

export function useAuditEvents(query: AuditQuery) {
  return useQuery(auditEventsQueryOptions(query));
}
