import { screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it, vi } from 'vitest';

import { clinician, healthFixture, studyFixture } from '@/testing/fixtures';
import { jsonResponse, type MockRequest, mockFetch, pdfResponse, pngResponse } from '@/testing/mock-fetch';
import { renderApp, signInForTest } from '@/testing/render-app';
import type { FindingFeedback } from '@/types/api';

const saved = (overrides: Partial<FindingFeedback> = {}): FindingFeedback => ({
  label: 'Cardiomegaly',
  verdict: 'agree',
  note: '',
  username: 'dr.house',
  created_at: '2025-01-02T10:01:00Z',
  updated_at: '2025-01-02T10:01:00Z',
  ...overrides,
});

function mockStudyPage(feedback: FindingFeedback[] = []) {
  const study = studyFixture();
  return mockFetch({
    'GET /api/health/': () => jsonResponse(healthFixture({ trained: true })),
    'GET /api/auth/me/': () => jsonResponse(clinician),
    'GET /api/studies/7/': () => jsonResponse(study),
    'GET /api/studies/7/image/': () => pngResponse(),
    ...Object.fromEntries(study.findings.map((finding) => [`GET ${finding.heatmap}`, () => pngResponse()])),
    'GET /api/studies/7/feedback/': () => jsonResponse(feedback),
    'PUT /api/studies/7/feedback/Cardiomegaly/': (request) =>
      jsonResponse(saved(JSON.parse(String(request.body)) as Partial<FindingFeedback>)),
    'PUT /api/studies/7/feedback/Hernia/': () =>
      jsonResponse({ message: 'note: Ensure this field has no more than 2000 characters.', extra: {} }, 400),
    'GET /api/studies/7/report/': () => pdfResponse(),
  });
}

const body = (request: MockRequest | undefined) => JSON.parse(String(request?.body)) as unknown;

describe('feedback on a finding', () => {
  it('asks to select a finding first, then saves agree / disagree / unsure with a note for it', async () => {
    signInForTest();
    const { requests } = mockStudyPage();
    renderApp('/studies/7');

    expect(await screen.findByText(/Select a finding to agree or disagree with it and to see its heatmap/)).toBeInTheDocument();
    await userEvent.click(screen.getByRole('button', { name: 'Cardiomegaly 63.2% (threshold 50.0%), score 63.2%' }));

    const form = await screen.findByRole('form', { name: 'Your assessment: Cardiomegaly' });
    const save = within(form).getByRole('button', { name: 'Save feedback' });
    expect(save).toBeDisabled();
    await userEvent.click(within(form).getByRole('radio', { name: 'Disagree' }));
    await userEvent.type(within(form).getByLabelText('Note (optional)'), 'Heart size normal on PA.');
    await userEvent.click(save);

    expect(await within(form).findByText(/Saved disagree by dr\.house/)).toBeInTheDocument();
    const put = requests.find((request) => request.method === 'PUT');
    expect(put?.url.pathname).toBe('/api/studies/7/feedback/Cardiomegaly/');
    expect(body(put)).toEqual({ verdict: 'disagree', note: 'Heart size normal on PA.' });
    const findings = screen.getByRole('region', { name: 'Findings' });
    expect(within(findings).getByText('You: disagree')).toBeInTheDocument();
  });

  it('starts from the answer already given and shows it beside the finding', async () => {
    signInForTest();
    mockStudyPage([saved({ verdict: 'unsure', note: 'Rotated film.' })]);
    renderApp('/studies/7');

    expect(await screen.findByText('You: unsure')).toBeInTheDocument();
    await userEvent.click(screen.getByRole('button', { name: 'Cardiomegaly 63.2% (threshold 50.0%), score 63.2%' }));
    const form = screen.getByRole('form', { name: 'Your assessment: Cardiomegaly' });
    expect(within(form).getByRole('radio', { name: 'Unsure' })).toBeChecked();
    expect(within(form).getByLabelText('Note (optional)')).toHaveValue('Rotated film.');
    expect(within(form).getByRole('button', { name: 'Save feedback' })).toBeDisabled();
  });

  it('shows the server\'s reason when feedback is refused', async () => {
    signInForTest();
    mockStudyPage();
    renderApp('/studies/7');

    await userEvent.click(await screen.findByRole('button', { name: 'Hernia 1.2% (threshold 20.0%), score 3.0%' }));
    const form = screen.getByRole('form', { name: 'Your assessment: Hernia' });
    await userEvent.click(within(form).getByRole('radio', { name: 'Agree' }));
    await userEvent.click(within(form).getByRole('button', { name: 'Save feedback' }));

    expect(await within(form).findByRole('alert')).toHaveTextContent('Ensure this field has no more than 2000 characters.');
  });
});

describe('PDF report', () => {
  it('downloads the report with the heatmaps of the chosen findings, the positive ones to begin with', async () => {
    signInForTest();
    const { requests } = mockStudyPage();
    const click = vi.spyOn(HTMLAnchorElement.prototype, 'click').mockImplementation(() => {});
    renderApp('/studies/7');

    const form = await screen.findByRole('form', { name: 'Report' });
    const heatmaps = within(form).getByRole('group', { name: 'Heatmaps in the report' });
    expect(within(heatmaps).getByRole('checkbox', { name: 'Cardiomegaly' })).toBeChecked();
    expect(within(heatmaps).getByRole('checkbox', { name: 'Effusion' })).not.toBeChecked();
    await userEvent.click(within(heatmaps).getByRole('checkbox', { name: 'Effusion' }));
    await userEvent.click(within(heatmaps).getByRole('checkbox', { name: 'Pleural Thickening' }));
    await userEvent.click(within(form).getByRole('button', { name: 'Download PDF report' }));

    expect(await within(form).findByText('Report downloaded.')).toBeInTheDocument();
    const report = requests.find((request) => request.url.pathname === '/api/studies/7/report/');
    expect(report?.url.searchParams.get('labels')).toBe('Effusion,Cardiomegaly');
    expect(report?.headers.get('Authorization')).toBe('Bearer access-1');
    expect(click).toHaveBeenCalledOnce();
    expect((click.mock.contexts[0] as HTMLAnchorElement).download).toBe('cxr-report-7.pdf');
  });
});
