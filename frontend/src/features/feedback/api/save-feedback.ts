import { useMutation, useQueryClient } from '@tanstack/react-query';

import { api } from '@/lib/api-client';
import type { FindingFeedback, FindingFeedbackInput } from '@/types/api';

import { feedbackQueryOptions } from './get-feedback';

type SaveFeedback = FindingFeedbackInput & { studyId: string; label: string };

export function saveFeedback({ studyId, label, ...input }: SaveFeedback): Promise<FindingFeedback> {
  return api.put<FindingFeedback>(
    `/api/studies/${encodeURIComponent(studyId)}/feedback/${encodeURIComponent(label)}/`,
    input,
  );
}

export function useSaveFeedback(studyId: string) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (input: Omit<SaveFeedback, 'studyId'>) => saveFeedback({ studyId, ...input }),
    onSuccess: (saved) =>
      queryClient.setQueryData(feedbackQueryOptions(studyId).queryKey, (previous = []) => [
        ...previous.filter((item) => item.label !== saved.label),
        saved,
      ]),
  });
}
