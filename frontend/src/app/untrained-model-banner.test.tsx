import { screen } from '@testing-library/react';
import { describe, expect, it } from 'vitest';

import { clinician, healthFixture, studyFixture } from '@/testing/fixtures';
import { jsonResponse, mockFetch, pngResponse } from '@/testing/mock-fetch';
import { renderApp, signInForTest } from '@/testing/render-app';

const BANNER = 'Untrained model — not for clinical use';
const emptyStudies = { count: 0, next: null, previous: null, results: [] };

function mockServer({ activeTrained, studyTrained }: { activeTrained: boolean; studyTrained: boolean }) {
  const study = studyFixture();
  mockFetch({
    'GET /api/health/': () => jsonResponse(healthFixture({ trained: activeTrained })),
    'GET /api/auth/me/': () => jsonResponse(clinician),
    'GET /api/studies/': () => jsonResponse(emptyStudies),
    'GET /api/studies/7/': () => jsonResponse({ ...study, model: { ...study.model, trained: studyTrained } }),
    'GET /api/studies/7/image/': () => pngResponse(),
  });
}

describe('untrained model banner', () => {
  it('appears when the active model reports trained: false', async () => {
    signInForTest();
    mockServer({ activeTrained: false, studyTrained: true });
    renderApp('/');

    expect(await screen.findByText(BANNER)).toBeVisible();
    expect(screen.getByText('Decision support, not a diagnosis.')).toBeInTheDocument();
  });

  it('does not appear when the active model and the study model are trained', async () => {
    signInForTest();
    mockServer({ activeTrained: true, studyTrained: true });
    renderApp('/studies/7');

    await screen.findByRole('heading', { name: 'Findings' });
    await screen.findByText(/All services up/);
    expect(screen.queryByText(BANNER)).not.toBeInTheDocument();
    expect(screen.getByText('Decision support, not a diagnosis.')).toBeInTheDocument();
  });

  it('appears on a study whose model was untrained even when the active model is trained', async () => {
    signInForTest();
    mockServer({ activeTrained: true, studyTrained: false });
    renderApp('/studies/7');

    expect(await screen.findByText(BANNER)).toBeVisible();
  });

  it('appears only once when both the active model and the study model are untrained', async () => {
    signInForTest();
    mockServer({ activeTrained: false, studyTrained: false });
    renderApp('/studies/7');

    await screen.findByRole('heading', { name: 'Findings' });
    expect(await screen.findAllByText(BANNER)).toHaveLength(1);
  });

  it('appears on the sign-in page too', async () => {
    mockServer({ activeTrained: false, studyTrained: false });
    renderApp('/sign-in');

    expect(await screen.findByText(BANNER)).toBeVisible();
  });
});
