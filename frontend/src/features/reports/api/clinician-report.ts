import { queryOptions, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';

import { api } from '@/lib/api-client';
import type { ClinicianReport, ReportSave } from '@/types/api';

const reportPath = (studyId: string, tail = '') => `/api/studies/${encodeURIComponent(studyId)}/report/clinician/${tail}`;

export const clinicianReportQueryOptions = (studyId: string) =>
  queryOptions({
    queryKey: ['clinician-report', studyId],
    queryFn: ({ signal }) => api.get<ClinicianReport>(reportPath(studyId), { signal }),
  });

export const reportVersionsQueryOptions = (studyId: string) =>
  queryOptions({
    queryKey: ['clinician-report', studyId, 'versions'],
    queryFn: ({ signal }) => api.get<ClinicianReport[]>(reportPath(studyId, 'versions/'), { signal }),
  });

/** The latest version of the study's report, or (none saved) the draft written from its results. */
export function useClinicianReport(studyId: string, { enabled = true }: { enabled?: boolean } = {}) {
  return useQuery({ ...clinicianReportQueryOptions(studyId), enabled });
}

export function useReportVersions(studyId: string, { enabled = true }: { enabled?: boolean } = {}) {
  return useQuery({ ...reportVersionsQueryOptions(studyId), enabled });
}

export type ReportAction =
  | { kind: 'save'; draft: ReportSave }
  // Signing saves the edits first when there are any, then signs the version that save gave.
  | { kind: 'sign'; version: number; draft: ReportSave | null }
  | { kind: 'amend'; version: number; reason: string };

export async function reportAct(studyId: string, action: ReportAction): Promise<ClinicianReport> {
  if (action.kind === 'save') return api.put<ClinicianReport>(reportPath(studyId), action.draft);
  if (action.kind === 'amend') {
    return api.post<ClinicianReport>(reportPath(studyId, 'amend/'), { version: action.version, reason: action.reason });
  }
  const version = action.draft
    ? (await api.put<ClinicianReport>(reportPath(studyId), action.draft)).version
    : action.version;
  return api.post<ClinicianReport>(reportPath(studyId, 'sign/'), { version });
}

export function useReportAction(studyId: string) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (action: ReportAction) => reportAct(studyId, action),
    onSuccess: (report) => {
      queryClient.setQueryData(clinicianReportQueryOptions(studyId).queryKey, report);
      void queryClient.invalidateQueries({ queryKey: reportVersionsQueryOptions(studyId).queryKey });
    },
  });
}
