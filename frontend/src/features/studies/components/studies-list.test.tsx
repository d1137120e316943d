import { screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';

import { clinician, healthFixture } from '@/testing/fixtures';
import { jsonResponse, mockFetch } from '@/testing/mock-fetch';
import { renderApp, signInForTest } from '@/testing/render-app';
import type { StudySummary } from '@/types/api';

const study = (id: number, overrides: Partial<StudySummary> = {}): StudySummary => ({
  id,
  status: 'done',
  created_at: '2025-01-02T10:00:00Z',
  finished_at: '2025-01-02T10:00:05Z',
  original_filename: `study-${id}.png`,
  cached: false,
  message: null,
  ...overrides,
});

describe('my studies list', () => {
  it('links each study by its file name, shows failures, and pages with Previous/Next', async () => {
    signInForTest();
    const { requests } = mockFetch({
      'GET /api/health/': () => jsonResponse(healthFixture({ trained: true })),
      'GET /api/auth/me/': () => jsonResponse(clinician),
      'GET /api/studies/': (request) =>
        request.url.searchParams.get('page') === '2'
          ? jsonResponse({ count: 3, next: null, previous: '/api/studies/?page=1', results: [study(1)] })
          : jsonResponse({
              count: 3,
              next: '/api/studies/?page=2',
              previous: null,
              results: [study(3), study(2, { status: 'failed', message: 'Not a chest radiograph.' })],
            }),
    });
    const { router } = renderApp('/');

    expect(await screen.findByRole('link', { name: 'study-3.png' })).toHaveAttribute('href', '/studies/3');
    expect(screen.getByText('Not a chest radiograph.')).toBeInTheDocument();
    expect(screen.getByRole('button', { name: 'Previous' })).toBeDisabled();

    await userEvent.click(screen.getByRole('button', { name: 'Next' }));

    expect(await screen.findByRole('link', { name: 'study-1.png' })).toBeInTheDocument();
    expect(router.state.location.search).toBe('?page=2');
    expect(requests.at(-1)?.url.searchParams.get('page')).toBe('2');
    expect(screen.getByRole('button', { name: 'Next' })).toBeDisabled();
  });
});
