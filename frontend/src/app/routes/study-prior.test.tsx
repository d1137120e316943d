import { screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';

import { studyFixture } from '@/testing/fixtures';
import { jsonResponse, pngResponse } from '@/testing/mock-fetch';
import { renderApp, signInForTest } from '@/testing/render-app';
import { mockStudyServer } from '@/testing/study-server';

const PRIOR_ID = '5';

/** Study 5, the patient's prior: the fixture's findings at other probabilities, its own image. */
function priorStudy() {
  const findings = studyFixture().findings.map((finding) => ({
    ...finding,
    probability: finding.label === 'Effusion' ? 0.7 : finding.probability,
    positive: finding.label === 'Effusion' ? true : finding.positive,
  }));
  return studyFixture({
    id: PRIOR_ID,
    original_filename: 'earlier.png',
    created_at: '2024-11-02T09:00:00Z',
    image: `/api/studies/${PRIOR_ID}/image/`,
    findings,
    patient_known: true,
  });
}

describe('the prior study on the study page', () => {
  it('names the prior, lists each finding\'s change, and shows both films side by side in one view once asked', async () => {
    signInForTest();
    const { requests } = mockStudyServer(
      studyFixture({
        patient_known: true,
        prior: { id: PRIOR_ID, created_at: '2024-11-02T09:00:00Z', original_filename: 'earlier.png' },
      }),
      {
        [`GET /api/studies/${PRIOR_ID}/`]: () => jsonResponse(priorStudy()),
        [`GET /api/studies/${PRIOR_ID}/image/`]: () => pngResponse(),
      },
    );
    renderApp('/studies/7');

    const panel = await screen.findByRole('region', { name: 'Prior study' });
    expect(within(panel).getByRole('link', { name: 'earlier.png' })).toHaveAttribute('href', `/studies/${PRIOR_ID}`);
    const effusion = await within(panel).findByRole('row', { name: /^Effusion / });
    expect(effusion).toHaveTextContent('70.0%48.0%↓ −22.0 pp (now below its threshold)');
    expect(within(panel).getByRole('row', { name: /^Cardiomegaly / })).toHaveTextContent('→ ±0.0 pp');
    // The prior's image is fetched (and so audited) only once the reader compares.
    expect(requests.some((request) => request.url.pathname === `/api/studies/${PRIOR_ID}/image/`)).toBe(false);

    await userEvent.click(within(panel).getByRole('button', { name: 'Compare side by side' }));

    expect(await screen.findByRole('img', { name: 'Prior radiograph earlier.png' })).toBeInTheDocument();
    expect(screen.getByText(/^Prior study, /)).toBeInTheDocument();
    await userEvent.click(screen.getByRole('button', { name: 'Zoom in' }));
    const stages = document.querySelectorAll<HTMLElement>('.radiograph-pair .radiograph-stage');
    expect(stages).toHaveLength(2);
    expect(stages[1]!.style.transform).toBe(stages[0]!.style.transform);
    expect(stages[0]!.style.transform).toContain('scale(1.25)');
    expect(within(panel).getByRole('button', { name: 'Stop comparing' })).toHaveAttribute('aria-pressed', 'true');
  });

  it('says why there is no prior: the patient is not known, or none of their earlier studies is the reader\'s', async () => {
    signInForTest();
    mockStudyServer(studyFixture({ patient_known: false }));
    const { unmount } = renderApp('/studies/7');
    expect(await screen.findByText(/names no patient/)).toBeInTheDocument();
    unmount();

    signInForTest();
    mockStudyServer(studyFixture({ patient_known: true }));
    renderApp('/studies/7');
    expect(await screen.findByText('No earlier analysed study of this patient among your studies.')).toBeInTheDocument();
  });
});
