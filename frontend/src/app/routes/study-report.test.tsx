import { screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';

import { studyFixture } from '@/testing/fixtures';
import { jsonResponse, type MockRequest } from '@/testing/mock-fetch';
import { renderApp, signInForTest } from '@/testing/render-app';
import { mockStudyServer } from '@/testing/study-server';
import type { ClinicianReport } from '@/types/api';
import { formatPercentPair } from '@/utils/format';

const SENTENCES = [
  { text: 'Cardiomegaly: 63.2% against a threshold of 50.0%, above it.', source: { kind: 'finding' as const, key: 'Cardiomegaly' }, kept: true },
  { text: 'Normal/abnormal screener: 70.0% against a threshold of 50.0%, likely abnormal.', source: { kind: 'analyser' as const, key: 'screener' }, kept: true },
];

const report = (overrides: Partial<ClinicianReport> = {}): ClinicianReport => ({
  version: 0,
  status: 'draft',
  text: SENTENCES.map((sentence) => sentence.text).join('\n'),
  impression: '',
  sentences: SENTENCES,
  amendment_reason: '',
  edited_by: 'dr.house',
  signed_by: null,
  signed_at: null,
  created_at: null,
  updated_at: null,
  ...overrides,
});

const body = (request: MockRequest) => JSON.parse(String(request.body)) as Record<string, unknown>;

function mockReportServer(putAnswer?: (request: MockRequest) => Response) {
  let current = report();
  return mockStudyServer(studyFixture(), {
    'GET /api/studies/7/report/clinician/': () => jsonResponse(current),
    'GET /api/studies/7/report/clinician/versions/': () => jsonResponse([current]),
    'PUT /api/studies/7/report/clinician/': (request) => {
      if (putAnswer) return putAnswer(request);
      const { text, impression } = body(request) as { text: string; impression: string };
      current = report({
        version: 1,
        text,
        impression,
        updated_at: '2025-01-02T10:05:00Z',
        sentences: SENTENCES.map((sentence) => ({ ...sentence, kept: text.includes(sentence.text) })),
      });
      return jsonResponse(current);
    },
    'POST /api/studies/7/report/clinician/sign/': () => {
      current = { ...current, status: 'signed', signed_by: 'dr.house', signed_at: '2025-01-02T10:06:00Z' };
      return jsonResponse(current);
    },
  });
}

describe("the clinician's report", () => {
  it('links each draft sentence to its finding, and edits, adds an impression and signs', async () => {
    signInForTest();
    const { requests } = mockReportServer();
    renderApp('/studies/7');

    const panel = await screen.findByRole('region', { name: "Clinician's report" });
    expect(await within(panel).findByText(/Draft written from the results, not saved yet/)).toBeInTheDocument();
    expect(within(panel).getByText(/from the screener/)).toBeInTheDocument();
    const sentence = within(panel).getByRole('button', { name: SENTENCES[0]!.text });
    await userEvent.click(sentence);
    // The sentence selects its finding on the page, and is highlighted as the selected one's.
    expect(screen.getByRole('button', { name: /^Cardiomegaly 63\.2% \(threshold 50\.0%\)/ })).toHaveAttribute('aria-pressed', 'true');
    expect(sentence).toHaveAttribute('aria-pressed', 'true');

    const sign = within(panel).getByRole('button', { name: 'Sign report' });
    expect(sign).toBeDisabled();
    const text = within(panel).getByLabelText('Report text');
    await userEvent.clear(text);
    await userEvent.type(text, 'Heart enlarged.');
    await userEvent.type(within(panel).getByLabelText('Impression'), 'Cardiomegaly.');
    await userEvent.click(sign);

    expect(await within(panel).findByText(/Signed by dr\.house on .* \(version 1\): final\./)).toBeInTheDocument();
    const put = requests.find((request) => request.method === 'PUT');
    expect(put && body(put)).toEqual({ version: 0, text: 'Heart enlarged.', impression: 'Cardiomegaly.' });
    const post = requests.find((request) => request.url.pathname.endsWith('/sign/'));
    expect(post && body(post)).toEqual({ version: 1 });
    expect(within(panel).getByText('Cardiomegaly.')).toBeInTheDocument();
    expect(within(panel).getByRole('button', { name: 'Amend report' })).toBeDisabled();
    // The edited text no longer holds the draft's sentences: they are marked so.
    expect(within(panel).getAllByText(/no longer in the text/)).toHaveLength(2);
    expect(within(panel).queryByLabelText('Report text')).not.toBeInTheDocument();
  });

  it('says a stale version was refused and offers to load the latest', async () => {
    signInForTest();
    mockReportServer(() =>
      jsonResponse({ message: 'The report has changed since version 0 was read: version 1 is the latest.', extra: {} }, 409),
    );
    renderApp('/studies/7');
    const panel = await screen.findByRole('region', { name: "Clinician's report" });
    await userEvent.type(await within(panel).findByLabelText('Impression'), 'Normal.');
    await userEvent.click(within(panel).getByRole('button', { name: 'Save draft' }));
    expect(await within(panel).findByRole('alert')).toHaveTextContent('version 1 is the latest');
    expect(within(panel).getByRole('button', { name: /Load the latest version/ })).toBeInTheDocument();
  });
});

describe('a probability beside its threshold', () => {
  it('shows the digits that tell them apart, and a small threshold off zero', () => {
    expect(formatPercentPair(0.632, 0.5)).toEqual(['63.2%', '50.0%']);
    expect(formatPercentPair(0.4996, 0.5)).toEqual(['49.96%', '50.00%']);
    expect(formatPercentPair(0.5, 0.5)).toEqual(['50.0%', '50.0%']);
    expect(formatPercentPair(0.0001, 0.0004)).toEqual(['0.01%', '0.04%']);
  });
});
