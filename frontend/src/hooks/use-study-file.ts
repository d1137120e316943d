import { queryOptions, useQuery } from '@tanstack/react-query';

import { api } from '@/lib/api-client';

// The radiograph and heatmaps need the bearer token, so they are fetched as blobs
// (and shown through object URLs) instead of being linked from an <img src>.
// A finished study's images never change, so they are cached for the session. Each is fetched
// only when shown: the server audits every download as someone having opened it.
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
