import { screen, within } from '@testing-library/react';
import { describe, expect, it } from 'vitest';

import { jsonResponse, mockFetch } from '@/testing/mock-fetch';
import { renderWithProvider, signInForTest } from '@/testing/render-app';
import type { DicomNodes as DicomNodesData } from '@/types/api';

import { DicomNodes } from './dicom-nodes';

const nodes: DicomNodesData = {
  nodes: [
    { kind: 'listener', ae_title: 'CXR_DS', host: '0.0.0.0', port: 11112, configured: true, last_contact: '2026-01-02T10:00:00Z' },
    { kind: 'pacs', ae_title: '', host: '', port: null, configured: false, last_contact: null },
  ],
  queue: [
    {
      study_id: '0b5d3a52-8f0e-4a0c-9d7e-2f0b7e6f1a11',
      protocol: 'dimse',
      calling_ae_title: 'MODALITY1',
      received_at: '2026-01-02T10:00:00Z',
      filing: {
        status: 'not_sent',
        status_display: 'Not sent',
        message: 'No PACS to send to: CXR_PACS_DESTINATION is not set.',
        attempts: 0,
        filed_at: null,
      },
    },
  ],
};

describe('DICOM nodes page', () => {
  it('lists the listener and the PACS with their configuration, and the results not sent with why', async () => {
    signInForTest();
    mockFetch({ 'GET /api/pacs/nodes/': () => jsonResponse(nodes) });
    renderWithProvider(<DicomNodes />);

    const table = await screen.findByRole('table', { name: 'DICOM nodes' });
    const listener = within(table).getByRole('row', { name: /This service \(DICOM listener\)/ });
    expect(listener).toHaveTextContent('CXR_DS');
    expect(listener).toHaveTextContent('0.0.0.0:11112');
    expect(within(table).getByRole('row', { name: /PACS \(results go here\)/ })).toHaveTextContent('Not configured');
    const queue = screen.getByRole('table', { name: 'Results not sent yet' });
    expect(within(queue).getByRole('link', { name: '0b5d3a52' })).toHaveAttribute(
      'href',
      '/studies/0b5d3a52-8f0e-4a0c-9d7e-2f0b7e6f1a11',
    );
    expect(queue).toHaveTextContent('CXR_PACS_DESTINATION is not set');
  });
});
