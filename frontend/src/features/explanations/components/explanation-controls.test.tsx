import { screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';

import { clinician, healthFixture, studyFixture } from '@/testing/fixtures';
import { jsonResponse, type MockHandler, mockFetch, pngResponse } from '@/testing/mock-fetch';
import { renderApp, signInForTest } from '@/testing/render-app';
import type { Explanation, ExplanationMethod } from '@/types/api';

const base = '/api/studies/7/findings/Cardiomegaly/explanations';

function explanationFixture(method: ExplanationMethod, overrides: Partial<Explanation> = {}): Explanation {
  return {
    method,
    label: 'Cardiomegaly',
    status: 'done',
    message: '',
    deletion_auc: 0.214,
    insertion_auc: 0.873,
    parameters: {},
    seconds: 3.2,
    model: { name: 'densenet121-cxr', version: '1.0.0', trained: true },
    image: `${base}/${method}/image/`,
    requested_at: '2026-01-01T10:00:00Z',
    finished_at: '2026-01-01T10:00:03Z',
    ...overrides,
  };
}

/** A server whose explanations are not asked for yet, then queued, then done on the next poll. */
function explanationRoutes(methods: ExplanationMethod[], asked: ExplanationMethod[]): Record<string, MockHandler> {
  const routes: Record<string, MockHandler> = {};
  for (const method of methods) {
    let polls = 0;
    routes[`GET ${base}/${method}/`] = () => {
      if (!asked.includes(method)) return jsonResponse(explanationFixture(method, { status: 'not_requested', image: null }));
      polls += 1;
      return jsonResponse(polls > 1 ? explanationFixture(method) : explanationFixture(method, { status: 'running', image: null }));
    };
    routes[`POST ${base}/${method}/`] = () => {
      asked.push(method);
      return jsonResponse(explanationFixture(method, { status: 'queued', image: null }), 202);
    };
    routes[`GET ${base}/${method}/image/`] = () => pngResponse();
  }
  return routes;
}

function renderStudy(asked: ExplanationMethod[]) {
  signInForTest();
  const study = studyFixture();
  const server = mockFetch({
    'GET /api/health/': () => jsonResponse(healthFixture({ trained: true })),
    'GET /api/auth/me/': () => jsonResponse(clinician),
    'GET /api/studies/7/': () => jsonResponse(study),
    'GET /api/studies/7/feedback/': () => jsonResponse([]),
    'GET /api/studies/7/image/': () => pngResponse(),
    ...Object.fromEntries(study.findings.map((finding) => [`GET ${finding.heatmap}`, () => pngResponse()])),
    ...explanationRoutes(['gradcam', 'occlusion', 'integrated_gradients'], asked),
  });
  renderApp('/studies/7');
  return server;
}

const posts = (server: ReturnType<typeof mockFetch>) =>
  server.requests.filter((request) => request.method === 'POST').map((request) => request.url.pathname);

async function selectCardiomegaly() {
  await userEvent.click(await screen.findByRole('button', { name: 'Cardiomegaly 63.2% (threshold 50.0%), score 63.2%' }));
  return screen.findByRole('region', { name: 'Explanation: Cardiomegaly' });
}

describe('explanation methods', () => {
  it('shows Grad-CAM by default and measures its faithfulness only when asked', async () => {
    const asked: ExplanationMethod[] = [];
    const server = renderStudy(asked);
    const panel = await selectCardiomegaly();

    expect(within(panel).getByLabelText('Explanation method')).toHaveValue('gradcam');
    expect(await screen.findByRole('img', { name: 'Grad-CAM heatmap for Cardiomegaly' })).toBeInTheDocument();
    expect(posts(server)).toEqual([]);

    await userEvent.click(within(panel).getByRole('button', { name: "Measure Grad-CAM's faithfulness" }));
    expect(await within(panel).findByText('0.214', {}, { timeout: 4000 })).toBeInTheDocument();
    expect(within(panel).getByText(/lower is better/)).toBeInTheDocument();
    expect(within(panel).getByText(/higher is better/)).toBeInTheDocument();
    expect(posts(server)).toEqual([`${base}/gradcam/`]);
  });

  it('asks for a chosen method once, shows its progress, then its map and scores', async () => {
    const asked: ExplanationMethod[] = [];
    const server = renderStudy(asked);
    const panel = await selectCardiomegaly();

    await userEvent.selectOptions(within(panel).getByLabelText('Explanation method'), 'occlusion');
    expect(await within(panel).findByRole('status')).toHaveTextContent(/Occlusion sensitivity/);
    const overlay = await screen.findByRole('img', { name: 'Occlusion sensitivity heatmap for Cardiomegaly' }, { timeout: 4000 });
    expect(overlay).toBeInTheDocument();
    expect(within(panel).getByText('Deletion AUC')).toBeInTheDocument();
    expect(within(panel).getByText('0.873')).toBeInTheDocument();
    expect(posts(server)).toEqual([`${base}/occlusion/`]);
  });

  it('puts two methods side by side, each with its own scores', async () => {
    const asked: ExplanationMethod[] = ['gradcam', 'integrated_gradients'];
    renderStudy(asked);
    const panel = await selectCardiomegaly();

    await userEvent.click(within(panel).getByLabelText('Compare two methods side by side'));
    await userEvent.selectOptions(within(panel).getByLabelText('Compare with'), 'integrated_gradients');
    const comparison = await screen.findByRole('region', { name: 'Side-by-side explanations of Cardiomegaly' });
    expect(
      await within(comparison).findByRole('img', { name: 'Integrated gradients map for Cardiomegaly' }, { timeout: 4000 }),
    ).toBeInTheDocument();
    expect(await within(comparison).findByRole('img', { name: 'Grad-CAM map for Cardiomegaly' })).toBeInTheDocument();
    expect(within(comparison).getAllByText('Deletion AUC')).toHaveLength(2);
  });
});
