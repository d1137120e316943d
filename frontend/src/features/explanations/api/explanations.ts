import { queryOptions, useQuery } from '@tanstack/react-query';

import { api } from '@/lib/api-client';
import type { Explanation, ExplanationMethod } from '@/types/api';

import { isComputing } from '../utils/explanation-methods';

// An explanation takes the worker from a few seconds (Grad-CAM's scores) to about half a minute
// (occlusion, integrated gradients); the one resource is polled meanwhile. The study event
// stream carries study status only (studies/explanation_requests.py says why).
export const EXPLANATION_POLL_MS = 1500;

export const explanationPath = (studyId: string, label: string, method: ExplanationMethod) =>
  `/api/studies/${encodeURIComponent(studyId)}/findings/${encodeURIComponent(label)}/explanations/${method}/`;

/**
 * One method's explanation of a finding. Fetching it asks for it when nobody has yet (the server
 * computes each one once and keeps it, so asking again costs nothing), then polls until it is done.
 */
export const explanationQueryOptions = (studyId: string, label: string, method: ExplanationMethod) =>
  queryOptions({
    queryKey: ['explanation', studyId, label, method],
    queryFn: async ({ signal }) => {
      const path = explanationPath(studyId, label, method);
      const explanation = await api.get<Explanation>(path, { signal });
      return explanation.status === 'not_requested' ? api.post<Explanation>(path, undefined, { signal }) : explanation;
    },
    refetchInterval: (query) =>
      query.state.data && isComputing(query.state.data.status) ? EXPLANATION_POLL_MS : false,
    staleTime: (query) => (query.state.data?.status === 'done' ? Infinity : 0),
  });

export function useExplanation(studyId: string, label: string, method: ExplanationMethod, enabled: boolean) {
  return useQuery({ ...explanationQueryOptions(studyId, label, method), enabled });
}
