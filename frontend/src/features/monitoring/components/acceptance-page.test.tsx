import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';

import { jsonResponse, mockFetch } from '@/testing/mock-fetch';
import { renderWithProvider, signInForTest } from '@/testing/render-app';
import type { AcceptanceRun, AcceptanceRunSummary } from '@/types/api';

import type { AcceptanceResult } from '../api/acceptance-runs';
import { AcceptancePage } from './acceptance-page';

const result: AcceptanceResult = {
  cases: 19,
  scored: 18,
  refused: { 'grey-square.png': 'not a chest radiograph' },
  refusal_rate: 1 / 19,
  threshold_rule: 'sensitivity:0.9',
  findings: {
    Mass: {
      positives: 9,
      negatives: 9,
      auroc: 1,
      auroc_ci95: [1, 1],
      threshold: 0.5,
      tpr: 0.889,
      tnr: 1,
      calibration: { ece: 0.21, bin_edges: [0, 0.5, 1], mean_probability: [0.2, 0.8], observed_fraction: [0, 1], counts: [9, 9] },
      roc: { fpr: [0, 0, 1], tpr: [0, 1, 1] },
    },
  },
  chosen_thresholds: { Mass: { threshold: 0.41, sensitivity: 1, specificity: 1 } },
  acceptance: {
    accepted: false,
    set_checks: [],
    findings: {
      Mass: {
        meets_targets: false,
        checks: [
          { metric: 'auroc', target: 'at least 0.8', value: 1, met: true },
          { metric: 'sensitivity', target: 'at least 0.9', value: 0.889, met: false },
        ],
      },
    },
  },
};

const summary: AcceptanceRunSummary = {
  id: 7,
  status: 'done',
  message: '',
  source: 'upload',
  targets: 'auroc=0.80,sensitivity=0.90',
  threshold_rule: 'sensitivity:0.9',
  created_by: 'admin',
  model_version: null,
  model: 'densenet121-chestxray14 0.1.0-untrained-seed0 (active)',
  created_at: '2026-12-07T10:00:00Z',
  started_at: '2026-12-07T10:00:01Z',
  finished_at: '2026-12-07T10:00:30Z',
  accepted: false,
};
const run: AcceptanceRun = {
  ...summary,
  model_card: { name: 'densenet121-chestxray14', version: '0.1.0-untrained-seed0', trained: false },
  result,
};

describe('acceptance page', () => {
  it("shows the latest run's verdict per finding against the targets, with its ROC and calibration plots", async () => {
    signInForTest();
    mockFetch({
      'GET /api/monitoring/acceptance-runs/': () => jsonResponse([summary]),
      'GET /api/monitoring/acceptance-runs/7/': () => jsonResponse(run),
      'GET /api/admin/models/': () => jsonResponse({ versions: [] }),
    });
    renderWithProvider(<AcceptancePage />);

    await screen.findByRole('heading', { name: 'Acceptance run 7: not accepted at this site' });
    const row = screen.getByRole('row', { name: /^Mass/ });
    expect(within(row).getByText('1.000 [1.000, 1.000]')).toBeInTheDocument();
    expect(within(row).getByText('Does not meet')).toHaveAttribute('title', expect.stringContaining('sensitivity 0.889 (at least 0.9) ✗'));
    expect(within(row).getByText('0.410 (sens. 1.00)')).toBeInTheDocument();
    expect(screen.getByText(/the intake refused 5\.3%/)).toHaveTextContent('grey-square.png');
    expect(screen.getByRole('img', { name: 'ROC curve of Mass' })).toBeInTheDocument();
    expect(screen.getByRole('img', { name: 'Calibration of Mass (ECE 0.210)' })).toBeInTheDocument();
    expect(screen.getByText(/is untrained: these figures test the procedure/)).toBeInTheDocument();
  });

  it('starts a run of installed candidate weights when the admin picks them, the active model otherwise', async () => {
    signInForTest();
    const { requests } = mockFetch({
      'GET /api/monitoring/acceptance-runs/': () => jsonResponse([]),
      'GET /api/admin/models/': () =>
        jsonResponse({ versions: [{ id: 4, name: 'site-densenet', version: '2.0.0', trained: true }] }),
      'POST /api/monitoring/acceptance-runs/': () => jsonResponse({ ...summary, id: 8, status: 'queued' }, 202),
      'GET /api/monitoring/acceptance-runs/8/': () => jsonResponse({ ...run, id: 8, status: 'queued', result: null }),
    });
    renderWithProvider(<AcceptancePage />);
    const user = userEvent.setup();
    await user.selectOptions(screen.getByLabelText('Labelled set'), 'feedback');
    const model = screen.getByLabelText('Model to accept');
    await screen.findByRole('option', { name: /site-densenet 2\.0\.0/ });
    await user.selectOptions(model, '4');
    await user.click(screen.getByRole('button', { name: 'Start the acceptance run' }));
    await waitFor(() => expect(requests.some((request) => request.method === 'POST')).toBe(true));
    const body = requests.find((request) => request.method === 'POST')?.body as FormData;
    expect(body.get('model_version')).toBe('4');
    expect(body.get('source')).toBe('feedback');
  });
});
