import { useMutation, useQueryClient } from '@tanstack/react-query';

import { api } from '@/lib/api-client';
import type { StudyCreated } from '@/types/api';

export async function uploadStudy(file: File): Promise<StudyCreated> {
  const form = new FormData();
  form.append('image', file, file.name);
  return api.post<StudyCreated>('/api/studies/', form);
}

export function useUploadStudy() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: uploadStudy,
    onSuccess: () => queryClient.invalidateQueries({ queryKey: ['studies'] }),
  });
}
