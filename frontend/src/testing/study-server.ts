import type { Study } from '@/types/api';

import { clinician, healthFixture, segmentationOutlinesFixture } from './fixtures';
import { jsonResponse, type MockHandler, mockFetch, pngResponse } from './mock-fetch';

/**
 * The API a clinician's study page (study 7) talks to: the study as `study()` answers it at each
 * request (a test may change it), its image, heatmaps and segmentation outlines, and no feedback.
 */
export function mockStudyServer(study: Study | (() => Study), routes: Record<string, MockHandler> = {}) {
  const current = typeof study === 'function' ? study : () => study;
  return mockFetch({
    'GET /api/health/': () => jsonResponse(healthFixture({ trained: true })),
    'GET /api/auth/me/': () => jsonResponse(clinician),
    'GET /api/studies/7/': () => jsonResponse(current()),
    'GET /api/studies/7/feedback/': () => jsonResponse([]),
    'GET /api/studies/7/image/': () => pngResponse(),
    'GET /api/studies/7/segmentation/': () => jsonResponse(segmentationOutlinesFixture()),
    ...Object.fromEntries(current().findings.map((finding) => [`GET ${finding.heatmap}`, () => pngResponse()])),
    ...routes,
  });
}
