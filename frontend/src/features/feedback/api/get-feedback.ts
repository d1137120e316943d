import { queryOptions, useQuery } from '@tanstack/react-query';

import { api } from '@/lib/api-client';
import type { FindingFeedback } from '@/types/api';

export const feedbackQueryOptions = (studyId: string) =>
  queryOptions({
    queryKey: ['feedback', studyId],
    queryFn: ({ signal }) =>
      api.get<FindingFeedback[]>(`/api/studies/${encodeURIComponent(studyId)}/feedback/`, { signal }),
  });

/** The signed-in user's answers on a study's findings. */
export function useFeedback(studyId: string, { enabled = true }: { enabled?: boolean } = {}) {
  return useQuery({ ...feedbackQueryOptions(studyId), enabled });
}
