import { queryOptions, useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect } from 'react';

import { api } from '@/lib/api-client';

// The radiograph and heatmaps need the bearer token, so they are fetched as blobs
// (and shown through object URLs) instead of being linked from an <img src>.
// A finished study's images never change, so they are cached for the session.
export const studyFileQueryOptions = (path: string) =>
  queryOptions({
    queryKey: ['study-file', path],
    queryFn: ({ signal }) => api.getBlob(path, { signal }),
    staleTime: Infinity,
    gcTime: 10 * 60_000,
  });

export function useStudyFile(path: string | undefined) {
  return useQuery({ ...studyFileQueryOptions(path ?? ''), enabled: Boolean(path) });
}

/** Fetch every heatmap of a finished study up front, so switching findings is instant. */
export function usePrefetchStudyFiles(paths: readonly string[]) {
  const queryClient = useQueryClient();
  const key = paths.join('\n');
  useEffect(() => {
    for (const path of key ? key.split('\n') : []) void queryClient.prefetchQuery(studyFileQueryOptions(path));
  }, [key, queryClient]);
}
