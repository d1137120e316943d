import { useMutation, useQueryClient } from '@tanstack/react-query';

import { api, type UploadProgress } from '@/lib/api-client';
import type { StudyCreated } from '@/types/api';

/**
 * One file makes a study of its own; several make one study of several images. `patientReference`,
 * typed by the clinician, names the patient where the files do not (the server keeps only its keyed hash).
 */
export type UploadVariables = { files: File[]; patientReference?: string; onProgress?: (progress: UploadProgress) => void };

export async function uploadStudy({ files, patientReference, onProgress }: UploadVariables): Promise<StudyCreated> {
  const form = new FormData();
  const field = files.length === 1 ? 'image' : 'images';
  for (const file of files) form.append(field, file, file.name);
  if (patientReference) form.append('patient_reference', patientReference);
  return api.post<StudyCreated>('/api/studies/', form, { onUploadProgress: onProgress });
}

export function useUploadStudy() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: uploadStudy,
    onSuccess: () => queryClient.invalidateQueries({ queryKey: ['studies'] }),
  });
}
