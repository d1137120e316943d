import { queryOptions, useQuery } from '@tanstack/react-query';

import { api } from '@/lib/api-client';
import type { SegmentationOutlines } from '@/types/api';

// A finished segmentation's outlines never change, so they are kept for the session. The path is
// the study's `segmentation.outlines`, which the API gives only once the segmentation is done
// (before that the endpoint answers 409).
export const segmentationOutlinesQueryOptions = (path: string) =>
  queryOptions({
    queryKey: ['segmentation-outlines', path],
    queryFn: ({ signal }) => api.get<SegmentationOutlines>(path, { signal }),
    staleTime: Infinity,
    gcTime: 10 * 60_000,
  });

export function useSegmentationOutlines(path: string | null | undefined) {
  return useQuery({ ...segmentationOutlinesQueryOptions(path ?? ''), enabled: Boolean(path) });
}
