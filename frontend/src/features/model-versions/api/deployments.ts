import { queryOptions, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';

import { api } from '@/lib/api-client';
import type { DeploymentsOverview, ServerWeights, ShadowComparison, ThresholdProfile } from '@/types/api';

const MODELS = '/api/admin/models/';

export const deploymentsQueryOptions = () =>
  queryOptions({
    queryKey: ['deployments'],
    queryFn: ({ signal }) => api.get<DeploymentsOverview>(MODELS, { signal }),
  });

export const shadowComparisonQueryOptions = () =>
  queryOptions({
    queryKey: ['deployments', 'comparison'],
    queryFn: ({ signal }) => api.get<ShadowComparison[]>(`${MODELS}comparison/`, { signal }),
    refetchInterval: 30_000,
  });

export const serverWeightsQueryOptions = () =>
  queryOptions({
    queryKey: ['deployments', 'server-weights'],
    queryFn: ({ signal }) => api.get<ServerWeights[]>(`${MODELS}weights/`, { signal }),
  });

/** The weights folders the operator put on the server (CXR_WEIGHTS_ROOT), installed or not. */
export function useServerWeights() {
  return useQuery(serverWeightsQueryOptions());
}

/** Installed weights and threshold profiles, and which is active, in shadow and before (admins). */
export function useDeployments() {
  return useQuery(deploymentsQueryOptions());
}

/** Each shadow candidate against the active model and clinicians' verdicts. */
export function useShadowComparison() {
  return useQuery(shadowComparisonQueryOptions());
}

/** A change of what analyses: every query is read again (the active card, the health banner's
model, the deployments), since each may name the model that changed. */
function useDeploymentChange<T, R>(change: (input: T) => Promise<R>) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: change,
    onSuccess: () => queryClient.invalidateQueries(),
  });
}

export function useInstallWeights() {
  return useDeploymentChange((weightsDir: string) =>
    api.post<DeploymentsOverview>(`${MODELS}weights/`, { weights_dir: weightsDir }),
  );
}

export function useInstallProfile() {
  return useDeploymentChange((file: File) => {
    const body = new FormData();
    body.append('file', file);
    return api.post<ThresholdProfile>(`${MODELS}profiles/`, body);
  });
}

/** ``null``: the active weights' card thresholds. */
export function useActivateProfile() {
  return useDeploymentChange((profile: number | null) =>
    api.post<DeploymentsOverview>(`${MODELS}active/profile/`, { profile }),
  );
}

export function useStartShadow() {
  return useDeploymentChange((candidate: { model_version: number; profile: number | null }) =>
    api.post<DeploymentsOverview>(`${MODELS}shadow/`, candidate),
  );
}

export function useStopShadow() {
  return useDeploymentChange(() => api.request(`${MODELS}shadow/`, { method: 'DELETE' }));
}

export function usePromote() {
  return useDeploymentChange(() => api.post<DeploymentsOverview>(`${MODELS}promote/`));
}

export function useRollback() {
  return useDeploymentChange(() => api.post<DeploymentsOverview>(`${MODELS}rollback/`));
}
