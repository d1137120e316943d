import { queryOptions, useQuery } from '@tanstack/react-query';

import { api } from '@/lib/api-client';
import type { ModelAgreement } from '@/types/api';

export const modelAgreementQueryOptions = () =>
  queryOptions({
    queryKey: ['model-agreement'],
    queryFn: ({ signal }) => api.get<ModelAgreement>('/api/model/agreement/', { signal }),
  });

/** How often clinicians agreed with each finding of the active model (admins only). */
export function useModelAgreement() {
  return useQuery(modelAgreementQueryOptions());
}
