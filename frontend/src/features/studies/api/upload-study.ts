import { useMutation, useQueryClient } from '@tanstack/react-query';

import { api, type UploadProgress } from '@/lib/api-client';
import type { StudyCreated } from '@/types/api';

export type UploadVariables = { file: File; onProgress?: (progress: UploadProgress) => void };

export async function uploadStudy({ file, onProgress }: UploadVariables): Promise<StudyCreated> {
  const form = new FormData();
  form.append('image', file, file.name);
  return api.post<StudyCreated>('/api/studies/', form, { onUploadProgress: onProgress });
}

export function useUploadStudy() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: uploadStudy,
    onSuccess: () => queryClient.invalidateQueries({ queryKey: ['studies'] }),
  });
}
