import { useQuery } from '@tanstack/react-query';

import { api } from '@/lib/api-client';
import type { Study, StudyEvent, StudyStatus } from '@/types/api';

export const studyStatusKey = (id: string) => ['study-status', id] as const;

/**
 * The status of a study the user just uploaded, kept by the event stream (study-events.ts). It is
 * fetched only when the stream reconnects while the study was in progress: events may have been
 * missed meanwhile.
 */
export function useStudyStatus(id: string, initialStatus: StudyStatus) {
  return useQuery({
    queryKey: studyStatusKey(id),
    queryFn: async ({ signal }): Promise<StudyEvent> => {
      const study = await api.get<Study>(`/api/studies/${encodeURIComponent(id)}/`, { signal });
      return { id: study.id, status: study.status, finished_at: study.finished_at, message: study.message };
    },
    initialData: { id, status: initialStatus, finished_at: null, message: '' },
    staleTime: Infinity,
  });
}
