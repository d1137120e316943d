import { queryOptions, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';

import { api } from '@/lib/api-client';
import type { AcceptanceRun, AcceptanceRunSummary, AcceptanceSource, DeploymentsOverview } from '@/types/api';

/**
 * The figures of a finished run. The schema carries them as one JSON object (their keys follow
 * ml's evaluator, monitoring.acceptance), so their shape is written here, for what the page reads.
 */
export type Calibration = {
  ece: number;
  bin_edges: number[];
  mean_probability: (number | null)[];
  observed_fraction: (number | null)[];
  counts: number[];
};
export type FindingFigures = {
  positives: number;
  negatives: number;
  auroc: number | null;
  auroc_ci95: [number, number] | null;
  threshold: number;
  tpr: number | null;
  tnr: number | null;
  calibration: Calibration | null;
  roc: { fpr: number[]; tpr: number[] } | null;
};
export type Check = { metric: string; target: string; value: number | null; met: boolean };
export type AcceptanceResult = {
  cases: number;
  scored: number;
  refused: Record<string, string>;
  refusal_rate: number;
  threshold_rule: string;
  findings: Record<string, FindingFigures>;
  chosen_thresholds: Record<string, { threshold: number | null; sensitivity: number | null; specificity: number | null }>;
  acceptance: {
    accepted: boolean;
    set_checks: Check[];
    findings: Record<string, { meets_targets: boolean; checks: Check[] }>;
  };
};

const RUNS_KEY = ['acceptance-runs'];

export function useAcceptanceRuns() {
  return useQuery(
    queryOptions({
      queryKey: RUNS_KEY,
      queryFn: ({ signal }) => api.get<AcceptanceRunSummary[]>('/api/monitoring/acceptance-runs/', { signal }),
      refetchInterval: (query) =>
        query.state.data?.some((run) => run.status === 'queued' || run.status === 'running') ? 2000 : false,
    }),
  );
}

export function useAcceptanceRun(id: number | null) {
  return useQuery(
    queryOptions({
      queryKey: [...RUNS_KEY, id],
      queryFn: ({ signal }) => api.get<AcceptanceRun>(`/api/monitoring/acceptance-runs/${id}/`, { signal }),
      enabled: id !== null,
      refetchInterval: (query) =>
        query.state.data && ['queued', 'running'].includes(query.state.data.status) ? 2000 : false,
    }),
  );
}

/** The weights installed here, any of which a run may accept instead of the active model (a candidate). */
export function useInstalledWeights() {
  return useQuery(
    queryOptions({
      queryKey: ['acceptance-runs', 'installed-weights'],
      queryFn: async ({ signal }) => (await api.get<DeploymentsOverview>('/api/admin/models/', { signal })).versions,
    }),
  );
}

export type StartVariables = {
  source: AcceptanceSource;
  /** Installed weights to accept; null: the active model. */
  modelVersion: number | null;
  images?: File;
  labels?: File;
  targets: string;
  thresholdRule: string;
};

export function useStartAcceptanceRun() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: ({ source, modelVersion, images, labels, targets, thresholdRule }: StartVariables) => {
      const form = new FormData();
      form.append('source', source);
      if (modelVersion !== null) form.append('model_version', String(modelVersion));
      form.append('targets', targets);
      form.append('threshold_rule', thresholdRule);
      if (images) form.append('images', images, images.name);
      if (labels) form.append('labels', labels, labels.name);
      return api.post<AcceptanceRun>('/api/monitoring/acceptance-runs/', form);
    },
    onSuccess: () => queryClient.invalidateQueries({ queryKey: RUNS_KEY }),
  });
}

/** Download the run's threshold profile (ml's JSON, bound to the weights) as a file. */
export async function downloadThresholdProfile(runId: number, name: string): Promise<void> {
  const profile = await api.get<{ name: string; version: number }>(
    `/api/monitoring/acceptance-runs/${runId}/threshold-profile/?name=${encodeURIComponent(name)}`,
  );
  const url = URL.createObjectURL(new Blob([JSON.stringify(profile, null, 2)], { type: 'application/json' }));
  const link = document.createElement('a');
  link.href = url;
  link.download = `${profile.name}-v${profile.version}.json`;
  link.click();
  URL.revokeObjectURL(url);
}
