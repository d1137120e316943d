import { screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, describe, expect, it, vi } from 'vitest';

import { clinician, healthFixture, studyFixture } from '@/testing/fixtures';
import { jsonResponse, mockFetch, pngResponse } from '@/testing/mock-fetch';
import { renderApp, signInForTest } from '@/testing/render-app';
import type { Study } from '@/types/api';

function mockStudyServer(study: Study) {
  return mockFetch({
    'GET /api/health/': () => jsonResponse(healthFixture({ trained: true })),
    'GET /api/auth/me/': () => jsonResponse(clinician),
    'GET /api/studies/7/': () => jsonResponse(study),
    'GET /api/studies/7/image/': () => pngResponse(),
    'GET /api/studies/7/heatmaps/Cardiomegaly/': () => pngResponse(),
    'GET /api/studies/7/heatmaps/Pleural_Thickening/': () => pngResponse(),
  });
}

const findingButtons = () =>
  within(screen.getByRole('region', { name: 'Findings' })).getAllByRole('button');

describe('study page', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('shows the radiograph of a queued study, polls it every 2 s and shows the findings once it is done', async () => {
    vi.useFakeTimers({ shouldAdvanceTime: true });
    signInForTest();
    let study = studyFixture({ status: 'queued', finished_at: null, findings: [], width: null, height: null });
    const { requests } = mockFetch({
      'GET /api/health/': () => jsonResponse(healthFixture({ trained: true })),
      'GET /api/auth/me/': () => jsonResponse(clinician),
      'GET /api/studies/7/': () => jsonResponse(study),
      'GET /api/studies/7/image/': () => pngResponse(),
    });
    renderApp('/studies/7');

    expect(await screen.findByText('Queued')).toBeInTheDocument();
    expect(await screen.findByRole('img', { name: 'Radiograph chest.png' })).toBeInTheDocument();
    expect(screen.queryByRole('heading', { name: 'Findings' })).not.toBeInTheDocument();
    const studyRequests = () => requests.filter((request) => request.url.pathname === '/api/studies/7/').length;
    expect(studyRequests()).toBe(1);

    study = studyFixture();
    await vi.advanceTimersByTimeAsync(2_100);

    expect(await screen.findByRole('button', { name: 'Cardiomegaly 63.2% (threshold 50.0%)' })).toBeInTheDocument();
    expect(studyRequests()).toBe(2);
  });

  it('renders one button per finding named "<display name> <probability> (threshold <threshold>)", positives first', async () => {
    signInForTest();
    mockStudyServer(studyFixture());
    renderApp('/studies/7');

    await screen.findByRole('heading', { name: 'Findings' });
    expect(findingButtons().map((button) => button.getAttribute('aria-pressed'))).toEqual([
      'false',
      'false',
      'false',
      'false',
    ]);
    const names = findingButtons().map((button) => button.textContent?.replace('Positive', '').trim());
    expect(names).toEqual([
      'Cardiomegaly 63.2% (threshold 50.0%)',
      'Pleural Thickening 42.0% (threshold 30.0%)',
      'Effusion 48.0% (threshold 60.0%)',
      'Hernia 1.2% (threshold 20.0%)',
    ]);
    expect(screen.getByRole('button', { name: 'Cardiomegaly 63.2% (threshold 50.0%)' })).toHaveAccessibleDescription(
      'Above threshold',
    );
    expect(screen.getByRole('button', { name: 'Effusion 48.0% (threshold 60.0%)' })).not.toHaveAccessibleDescription();
    expect(await screen.findByRole('img', { name: 'Radiograph chest.png' })).toBeInTheDocument();
  });

  it('overlays the Grad-CAM heatmap of a finding when its button is pressed, and removes it when pressed again', async () => {
    signInForTest();
    const { requests } = mockStudyServer(studyFixture());
    renderApp('/studies/7');

    const button = await screen.findByRole('button', { name: 'Pleural Thickening 42.0% (threshold 30.0%)' });
    await userEvent.click(button);

    const heatmap = await screen.findByRole('img', { name: 'Grad-CAM heatmap for Pleural Thickening' });
    expect(heatmap).toHaveClass('heatmap-overlay');
    expect(button).toHaveAttribute('aria-pressed', 'true');
    expect(requests.some((request) => request.url.pathname === '/api/studies/7/heatmaps/Pleural_Thickening/')).toBe(true);

    await userEvent.click(button);
    expect(button).toHaveAttribute('aria-pressed', 'false');
    expect(screen.queryByRole('img', { name: /Grad-CAM heatmap/ })).not.toBeInTheDocument();
  });

  it('fetches the radiograph with the bearer token and shows it through an object URL', async () => {
    signInForTest();
    const { requests } = mockStudyServer(studyFixture());
    renderApp('/studies/7');

    const image = await screen.findByRole('img', { name: 'Radiograph chest.png' });
    expect(image.getAttribute('src')).toMatch(/^blob:/);
    const imageRequest = requests.find((request) => request.url.pathname === '/api/studies/7/image/');
    expect(imageRequest?.headers.get('Authorization')).toBe('Bearer access-1');
  });

  it('shows the failure message of a failed study and no findings', async () => {
    signInForTest();
    mockStudyServer(studyFixture({ status: 'failed', message: 'Image could not be decoded.', findings: [] }));
    renderApp('/studies/7');

    expect(await screen.findByText(/Image could not be decoded\./)).toBeInTheDocument();
    expect(screen.queryByRole('heading', { name: 'Findings' })).not.toBeInTheDocument();
  });

  it('notes a result served from cache', async () => {
    signInForTest();
    mockStudyServer(studyFixture({ cached: true }));
    renderApp('/studies/7');

    expect(await screen.findByText(/From cache/)).toBeInTheDocument();
  });
});
