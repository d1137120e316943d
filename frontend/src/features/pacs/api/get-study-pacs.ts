import { queryOptions, useQuery } from '@tanstack/react-query';

import { api } from '@/lib/api-client';
import type { StudyPacs } from '@/types/api';

// Results go back to the PACS after the analysis: look again until they are sent or refused.
const FILING_POLL_MS = 5_000;

export const studyPacsQueryOptions = (studyId: string) =>
  queryOptions({
    queryKey: ['study-pacs', studyId],
    queryFn: ({ signal }) => api.get<StudyPacs>(`/api/studies/${encodeURIComponent(studyId)}/pacs/`, { signal }),
    refetchInterval: (query) => {
      const status = query.state.data?.filing?.status;
      return status === 'waiting' || status === 'sending' ? FILING_POLL_MS : false;
    },
  });

/** Whether a PACS sent the study, and whether its results went back to it. */
export function useStudyPacs(studyId: string) {
  return useQuery(studyPacsQueryOptions(studyId));
}
