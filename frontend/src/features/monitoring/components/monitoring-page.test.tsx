import { screen } from '@testing-library/react';
import { describe, expect, it } from 'vitest';

import { jsonResponse, mockFetch } from '@/testing/mock-fetch';
import { renderWithProvider, signInForTest } from '@/testing/render-app';
import type { Drift, DriftSnapshot } from '@/types/api';

import { MonitoringPage } from './monitoring-page';

function snapshot(day: string, psi: number, reasons: string[]): DriftSnapshot {
  return {
    day,
    model_name: 'densenet121-chestxray14',
    model_version: '0.1.0-untrained-seed0',
    baseline: 3,
    studies: 60,
    refused: 2,
    refusal_rate: 2 / 62,
    findings: {
      Mass: {
        studies: 60,
        psi,
        ks_statistic: 0.2,
        ks_p_value: 0.01,
        above_threshold: 0.1,
        agreement: 0.8,
        histogram: [0.5, 0.5, 0, 0, 0, 0, 0, 0, 0, 0],
        baseline_histogram: [0.4, 0.6, 0, 0, 0, 0, 0, 0, 0, 0],
      },
    },
    drifted: reasons.length > 0,
    reasons,
    computed_at: `${day}T00:30:00Z`,
  };
}

const drift: Drift = {
  model_name: 'densenet121-chestxray14',
  model_version: '0.1.0-untrained-seed0',
  trained: false,
  thresholds: { psi: 0.25, ks_p_value: 0.001, refusal_rate: 0.1, min_studies: 30 },
  snapshots: [
    snapshot('2026-12-05', 0.03, []),
    snapshot('2026-12-06', 0.61, ["Mass: the scores' population stability index is 0.610 (over 0.25)."]),
  ],
};

describe('monitoring page', () => {
  it('says the latest day is drifted with its reason, and plots the figures over time', async () => {
    signInForTest();
    mockFetch({ 'GET /api/monitoring/drift/': () => jsonResponse(drift) });
    renderWithProvider(<MonitoringPage />);

    const state = await screen.findByText('2026-12-06: Drifted');
    expect(state.closest('[role="status"]')).toHaveTextContent('population stability index is 0.610');
    expect(screen.getByRole('img', { name: 'Population stability index of Mass' })).toBeInTheDocument();
    expect(screen.getByRole('img', { name: 'Intake refusal rate' })).toBeInTheDocument();
    expect(screen.getByText(/The active model is untrained/)).toBeInTheDocument();
    expect(screen.getAllByRole('row')).toHaveLength(3);
  });
});
