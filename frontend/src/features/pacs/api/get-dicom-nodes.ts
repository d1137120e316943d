import { queryOptions, useQuery } from '@tanstack/react-query';

import { api } from '@/lib/api-client';
import type { DicomNodes } from '@/types/api';

export const dicomNodesQueryOptions = () =>
  queryOptions({
    queryKey: ['dicom-nodes'],
    queryFn: ({ signal }) => api.get<DicomNodes>('/api/pacs/nodes/', { signal }),
    refetchInterval: 15_000,
  });

/** The listener, the PACS destination, their last contact and the results not sent yet (admins only). */
export function useDicomNodes() {
  return useQuery(dicomNodesQueryOptions());
}
