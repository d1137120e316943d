import { screen } from '@testing-library/react';
import { describe, expect, it } from 'vitest';

import { jsonResponse, mockFetch } from '@/testing/mock-fetch';
import { renderWithProvider, signInForTest } from '@/testing/render-app';
import type { StudyPacs } from '@/types/api';

import { PacsStatus } from './pacs-status';

const received = (filing: Partial<NonNullable<StudyPacs['filing']>>): StudyPacs => ({
  received: true,
  protocol: 'dimse',
  calling_ae_title: 'MODALITY1',
  received_at: '2026-01-02T10:00:00Z',
  filing: { status: 'sent', status_display: 'Sent to PACS', message: '', attempts: 1, filed_at: null, ...filing },
});

function renderFor(answer: StudyPacs) {
  signInForTest();
  mockFetch({ 'GET /api/studies/7/pacs/': () => jsonResponse(answer) });
  renderWithProvider(<PacsStatus studyId="7" />);
}

describe('PACS status of a study', () => {
  it('says a study came from the PACS and that its results were sent back', async () => {
    renderFor(received({ status: 'sent' }));

    const status = await screen.findByRole('status', { name: 'PACS' });
    expect(status).toHaveTextContent('Received from PACS (DICOM from MODALITY1). Results sent to PACS');
  });

  it('says why the results were not sent', async () => {
    renderFor(received({ status: 'not_sent', message: 'No PACS to send to: CXR_PACS_DESTINATION is not set.' }));

    expect(await screen.findByRole('status', { name: 'PACS' })).toHaveTextContent(
      'Results not sent to PACS: No PACS to send to: CXR_PACS_DESTINATION is not set.',
    );
  });

  it('says the results wait to be sent again while the PACS is out of reach, apart from sending', async () => {
    renderFor(received({ status: 'retrying', message: 'The PACS did not answer. Trying again in 60 s.' }));

    expect(await screen.findByRole('status', { name: 'PACS' })).toHaveTextContent(
      'The PACS could not be reached; waiting to retry. The PACS did not answer. Trying again in 60 s.',
    );
  });

  it('shows nothing for an uploaded study', async () => {
    renderFor({ received: false, protocol: null, calling_ae_title: null, received_at: null, filing: null });

    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(screen.queryByRole('status', { name: 'PACS' })).not.toBeInTheDocument();
  });
});
