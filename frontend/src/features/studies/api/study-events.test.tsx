import { screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, describe, expect, it, vi } from 'vitest';

import { FALLBACK_POLL_MS } from '@/lib/live-status';
import { clinician, healthFixture, modelCardFixture, summaryFixture } from '@/testing/fixtures';
import { eventStreamRoute, jsonResponse, type MockHandler, type MockRequest, mockFetch } from '@/testing/mock-fetch';
import { renderApp, signInForTest } from '@/testing/render-app';
import type { StudyStatus } from '@/types/api';

import { reconnectDelay, STUDY_EVENTS_PATH } from './study-events';

const png = (name: string) => new File([new Uint8Array([137, 80, 78, 71])], name, { type: 'image/png' });

function mockService(events: MockHandler) {
  let status: StudyStatus = 'queued';
  const mock = mockFetch({
    'GET /api/health/': () => jsonResponse(healthFixture({ trained: true })),
    'GET /api/auth/me/': () => jsonResponse(clinician),
    'GET /api/model/': () => jsonResponse(modelCardFixture()),
    'GET /api/studies/': () =>
      jsonResponse({
        count: 1,
        next: null,
        previous: null,
        results: [summaryFixture({ id: 'new-study', original_filename: 'new.png', status })],
      }),
    'POST /api/studies/': () => jsonResponse({ id: 'new-study', status: 'queued', cached: false }, 202),
    [`GET ${STUDY_EVENTS_PATH}`]: events,
  });
  const count = (path: string) => mock.requests.filter((request: MockRequest) => request.url.pathname === path).length;
  return {
    ...mock,
    setStatus: (next: StudyStatus) => (status = next),
    listRequests: () => count('/api/studies/'),
    streamRequests: () => count(STUDY_EVENTS_PATH),
  };
}

const worklistRow = async () => (await screen.findByRole('link', { name: 'new.png' })).closest('tr')!;
const uploadRow = () => within(screen.getByRole('list', { name: 'Upload results' })).getByText('new.png').closest('li')!;

describe('live study status', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('turns the worklist row and the upload row Done on a stream event, and never polls while the stream is up', async () => {
    vi.useFakeTimers({ shouldAdvanceTime: true });
    signInForTest();
    const stream = eventStreamRoute();
    const service = mockService(stream.handler);
    renderApp('/');

    await vi.waitFor(() => expect(stream.connections).toHaveLength(1));
    const connection = stream.connections[0]!;
    connection.send('ready', {});
    await userEvent.upload(screen.getByLabelText('Upload radiographs'), png('new.png'));
    expect(await within(uploadRow()).findByText('Queued')).toBeInTheDocument();
    expect(within(await worklistRow()).getByText('Queued')).toBeInTheDocument();
    const settled = service.listRequests();

    await vi.advanceTimersByTimeAsync(4 * FALLBACK_POLL_MS);
    expect(service.listRequests()).toBe(settled);

    service.setStatus('done');
    connection.send('study', { id: 'new-study', status: 'done', finished_at: '2025-01-02T10:00:05Z', message: '' });
    expect(await within(uploadRow()).findByText('Done')).toBeInTheDocument();
    expect(await within(await worklistRow()).findByText('Done')).toBeInTheDocument();
    expect(within(uploadRow()).getByRole('link', { name: 'Open study new.png' })).toHaveAttribute('href', '/studies/new-study');
    expect(service.listRequests()).toBe(settled + 1);
  });

  it('reconnects after a failed stream and refetches the list once it is subscribed again', async () => {
    vi.useFakeTimers({ shouldAdvanceTime: true });
    signInForTest();
    const stream = eventStreamRoute();
    let attempts = 0;
    const service = mockService((request) => {
      attempts += 1;
      return attempts === 1 ? jsonResponse({ message: 'Redis is down.', extra: {} }, 503) : stream.handler(request);
    });
    renderApp('/');
    await worklistRow();
    await vi.waitFor(() => expect(service.streamRequests()).toBe(1));

    await vi.advanceTimersByTimeAsync(reconnectDelay(1) + 1_000);
    await vi.waitFor(() => expect(stream.connections).toHaveLength(1));
    const before = service.listRequests();
    stream.connections[0]!.send('ready', {});

    await vi.waitFor(() => expect(service.listRequests()).toBe(before + 1));
  });

  it('reconnects at once when the server ends the stream (its token expired)', async () => {
    signInForTest();
    const stream = eventStreamRoute();
    mockService(stream.handler);
    renderApp('/');
    await vi.waitFor(() => expect(stream.connections).toHaveLength(1));

    stream.connections[0]!.send('ready', {});
    stream.connections[0]!.end();

    await vi.waitFor(() => expect(stream.connections).toHaveLength(2));
  });

  it('waits for the backoff when a stream ends before it was ready, instead of reconnecting at once', async () => {
    vi.useFakeTimers({ shouldAdvanceTime: true });
    signInForTest();
    const stream = eventStreamRoute();
    mockService(stream.handler);
    renderApp('/');
    await vi.waitFor(() => expect(stream.connections).toHaveLength(1));

    stream.connections[0]!.end();
    await vi.advanceTimersByTimeAsync(300);
    expect(stream.connections).toHaveLength(1);

    await vi.advanceTimersByTimeAsync(reconnectDelay(1) + 1_000);
    await vi.waitFor(() => expect(stream.connections).toHaveLength(2));
  });

  it('polls a study in progress slowly while the stream is down', async () => {
    vi.useFakeTimers({ shouldAdvanceTime: true });
    signInForTest();
    const service = mockService(() => jsonResponse({ message: 'Redis is down.', extra: {} }, 503));
    renderApp('/');
    await worklistRow();
    const before = service.listRequests();

    await vi.advanceTimersByTimeAsync(FALLBACK_POLL_MS + 500);

    expect(service.listRequests()).toBeGreaterThan(before);
  });

  it('waits longer after each failure, up to 30 s', () => {
    expect(reconnectDelay(1)).toBeGreaterThanOrEqual(500);
    expect(reconnectDelay(1)).toBeLessThanOrEqual(1_000);
    expect(reconnectDelay(3)).toBeGreaterThanOrEqual(2_000);
    expect(reconnectDelay(20)).toBeLessThanOrEqual(30_000);
  });
});
