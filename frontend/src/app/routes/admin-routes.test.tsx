import { screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it, vi } from 'vitest';

import { admin, analyserCardFixture, clinician, healthFixture, modelCardFixture } from '@/testing/fixtures';
import { jsonResponse, type MockHandler, type MockRequest, mockFetch } from '@/testing/mock-fetch';
import { renderApp, signInForTest } from '@/testing/render-app';
import type { AuditEvent, User } from '@/types/api';

function mockAdminServer(routes: Record<string, MockHandler>, me: User = admin) {
  return mockFetch({
    'GET /api/health/': () => jsonResponse(healthFixture({ trained: true })),
    'GET /api/auth/me/': () => jsonResponse(me),
    ...routes,
  });
}

const page = <T,>(results: T[]) => ({ count: results.length, next: null, previous: null, results });
const body = (request: MockRequest | undefined) => JSON.parse(String(request?.body)) as unknown;

describe('users page', () => {
  it('creates a user with a role', async () => {
    signInForTest();
    const { requests } = mockAdminServer({
      'GET /api/users/': () => jsonResponse(page([admin, clinician])),
      'POST /api/users/': (request) =>
        jsonResponse({ ...clinician, id: 9, ...(body(request) as object), is_active: true }, 201),
    });
    renderApp('/users');

    const form = await screen.findByRole('form', { name: 'Create a user' });
    await userEvent.type(within(form).getByLabelText('Username'), 'dr.wilson');
    await userEvent.type(within(form).getByLabelText('Initial password'), 'a-long-unusual-passphrase');
    await userEvent.selectOptions(within(form).getByLabelText('Role'), 'Admin');
    await userEvent.click(within(form).getByRole('button', { name: 'Create user' }));

    expect(await within(form).findByText('Created dr.wilson (admin).')).toBeInTheDocument();
    expect(body(requests.find((request) => request.method === 'POST'))).toEqual({
      username: 'dr.wilson',
      email: '',
      password: 'a-long-unusual-passphrase',
      role: 'admin',
    });
    expect(within(form).getByLabelText('Username')).toHaveValue('');
  });

  it('shows why the server refused a new user', async () => {
    signInForTest();
    mockAdminServer({
      'GET /api/users/': () => jsonResponse(page([admin])),
      'POST /api/users/': () => jsonResponse({ message: 'This password is too common.', extra: {} }, 400),
    });
    renderApp('/users');

    const form = await screen.findByRole('form', { name: 'Create a user' });
    await userEvent.type(within(form).getByLabelText('Username'), 'dr.weak');
    await userEvent.type(within(form).getByLabelText('Initial password'), 'password');
    await userEvent.click(within(form).getByRole('button', { name: 'Create user' }));

    expect(await within(form).findByRole('alert')).toHaveTextContent('This password is too common.');
  });

  it('deactivates and reactivates a user', async () => {
    signInForTest();
    let active = true;
    const { requests } = mockAdminServer({
      'GET /api/users/': () => jsonResponse(page([admin, { ...clinician, is_active: active }])),
      'PATCH /api/users/1/': (request) => {
        active = (body(request) as { is_active: boolean }).is_active;
        return jsonResponse({ ...clinician, is_active: active });
      },
    });
    renderApp('/users');

    await userEvent.click(await screen.findByRole('button', { name: 'Deactivate dr.house' }));
    const reactivate = await screen.findByRole('button', { name: 'Reactivate dr.house' });
    expect(reactivate.closest('tr')).toHaveTextContent('Deactivated');
    await userEvent.click(reactivate);
    expect(await screen.findByRole('button', { name: 'Deactivate dr.house' })).toBeInTheDocument();

    expect(requests.filter((request) => request.method === 'PATCH').map(body)).toEqual([
      { is_active: false },
      { is_active: true },
    ]);
  });

  it('resets a password and says the user\'s sessions have ended', async () => {
    signInForTest();
    const { requests } = mockAdminServer({
      'GET /api/users/': () => jsonResponse(page([admin, clinician])),
      'POST /api/users/1/password/': () => new Response(null, { status: 204 }),
    });
    renderApp('/users');

    await userEvent.click(await screen.findByRole('button', { name: 'Reset password for dr.house' }));
    await userEvent.type(screen.getByLabelText('New password for dr.house'), 'a-brand-new-passphrase');
    await userEvent.click(screen.getByRole('button', { name: 'Set password' }));

    expect(await screen.findByText('New password set for dr.house; their sessions have ended.')).toBeInTheDocument();
    expect(screen.queryByLabelText('New password for dr.house')).not.toBeInTheDocument();
    expect(body(requests.find((request) => request.url.pathname === '/api/users/1/password/'))).toEqual({
      password: 'a-brand-new-passphrase',
    });
  });

  it('refuses clinicians', async () => {
    signInForTest();
    const { requests } = mockAdminServer({}, clinician);
    renderApp('/users');

    expect(await screen.findByRole('heading', { name: 'Admins only' })).toBeInTheDocument();
    expect(requests.some((request) => request.url.pathname === '/api/users/')).toBe(false);
  });
});

const event = (overrides: Partial<AuditEvent>): AuditEvent => ({
  id: 1,
  created_at: '2025-01-02T10:00:00Z',
  actor: 1,
  actor_username: 'dr.house',
  action: 'sign_in',
  target_type: '',
  target_id: '',
  target_username: null,
  ip_address: '10.0.0.5',
  detail: {},
  ...overrides,
});

describe('audit log page', () => {
  it('lists who did what, when and from where, and filters by user, action and dates', async () => {
    signInForTest();
    const { requests } = mockAdminServer({
      'GET /api/audit/': () =>
        jsonResponse(
          page([
            event({ id: 2, action: 'feedback', target_type: 'study', target_id: 'abc', detail: { label: 'Cardiomegaly', verdict: 'agree' } }),
            event({ id: 1, action: 'sign_in_failed', actor: null, actor_username: 'mallory', ip_address: '203.0.113.9' }),
            event({ id: 3, action: 'user_update', actor_username: 'admin.cuddy', target_type: 'user', target_id: '3', target_username: 'dr.wilson' }),
          ]),
        ),
    });
    const { router } = renderApp('/audit');

    const table = await screen.findByRole('table', { name: 'Audit events' });
    const [, feedbackRow, failedRow, userRow] = within(table).getAllByRole('row');
    expect(feedbackRow).toHaveTextContent('Gave feedback');
    expect(feedbackRow).toHaveTextContent('Study abc');
    // A user is named, never "user 3", and a name is kept whole (not broken mid-word).
    expect(userRow).toHaveTextContent('User dr.wilson');
    expect(userRow).not.toHaveTextContent('user 3');
    expect(within(userRow!).getByText('admin.cuddy')).toHaveClass('name');
    expect(feedbackRow).toHaveTextContent('label: Cardiomegaly; verdict: agree');
    expect(failedRow).toHaveTextContent('Failed sign-in');
    expect(failedRow).toHaveTextContent('mallory');
    expect(failedRow).toHaveTextContent('203.0.113.9');

    await userEvent.type(screen.getByLabelText('Username'), 'mallory');
    await userEvent.selectOptions(screen.getByLabelText('Action'), 'Failed sign-in');
    await userEvent.type(screen.getByLabelText('From'), '2025-01-01');
    await userEvent.type(screen.getByLabelText('To'), '2025-01-31');
    await userEvent.click(screen.getByRole('button', { name: 'Filter' }));

    await vi.waitFor(() =>
      expect(Object.fromEntries(requests.at(-1)!.url.searchParams)).toEqual({
        page: '1',
        actor: 'mallory',
        action: 'sign_in_failed',
        created_after: '2025-01-01',
        created_before: '2025-01-31',
      }),
    );
    expect(new URLSearchParams(router.state.location.search).get('actor')).toBe('mallory');
  });
});

describe('model page', () => {
  it('shows the active card, its validation figures with confidence intervals, and the agreement rate per finding', async () => {
    signInForTest();
    mockAdminServer({
      'GET /api/model/': () => jsonResponse(modelCardFixture()),
      'GET /api/model/agreement/': () =>
        jsonResponse({
          name: 'densenet121-cxr',
          version: '1.0.0',
          findings: [
            { label: 'Cardiomegaly', agree: 3, disagree: 1, unsure: 2, answered: 6, agreement_rate: 0.75 },
            { label: 'Effusion', agree: 0, disagree: 0, unsure: 1, answered: 1, agreement_rate: null },
          ],
        }),
      'GET /api/model/analysers/': () => jsonResponse([]),
    });
    renderApp('/model');

    const card = await screen.findByRole('region', { name: 'Active model' });
    expect(within(card).getByText('NIH ChestX-ray14 train split')).toBeInTheDocument();
    expect(within(card).getByText('0.840 (95% CI 0.820–0.860)')).toBeInTheDocument();
    expect(within(card).getByText('812 images of 301 patients; thresholds chosen by f1')).toBeInTheDocument();
    const validation = screen.getByRole('table', { name: 'Validation figures per finding' });
    expect(within(validation).getByRole('row', { name: /Cardiomegaly/ })).toHaveTextContent(
      'Cardiomegaly20 / 7920.910 (95% CI 0.860–0.950)31.0%85.0%88.0%16.0%0.270',
    );
    expect(within(validation).getByRole('row', { name: /Hernia/ })).toHaveTextContent('0 / 812—50.0% (default)—');
    const table = screen.getByRole('table', { name: 'Findings of the active model' });
    const cardiomegaly = await within(table).findByRole('row', { name: /Cardiomegaly/ });
    expect(cardiomegaly).toHaveTextContent('0.910 (95% CI 0.860–0.950)');
    await vi.waitFor(() => expect(cardiomegaly).toHaveTextContent('75.0%'));
    expect(within(table).getByRole('row', { name: /Effusion/ })).toHaveTextContent('—');
  });

  it('shows each analyser beside the classifier with its own card and trained state', async () => {
    signInForTest();
    mockAdminServer({
      'GET /api/model/': () => jsonResponse(modelCardFixture()),
      'GET /api/model/agreement/': () => jsonResponse({ name: 'densenet121-cxr', version: '1.0.0', findings: [] }),
      'GET /api/model/analysers/': () =>
        jsonResponse([analyserCardFixture('segmentation'), analyserCardFixture('screener', { trained: false })]),
    });
    renderApp('/model');

    const segmentation = await screen.findByRole('region', { name: 'Anatomy segmentation' });
    expect(within(segmentation).getByText('unet-cxr-anatomy')).toBeInTheDocument();
    expect(within(segmentation).getByText('Trained').nextSibling).toHaveTextContent('Yes');
    expect(within(segmentation).getByText('JSRT/SCR masks')).toBeInTheDocument();
    const screener = screen.getByRole('region', { name: 'Abnormality screener' });
    expect(within(screener).getByText('1.0.0-untrained-seed0')).toBeInTheDocument();
    expect(within(screener).getByText('Trained').nextSibling).toHaveTextContent('No — untrained weights, not for clinical use');
    expect(within(screener).getByText('None (seeded weights)')).toBeInTheDocument();
    // The classifier's card keeps its own flag: trained.
    expect(within(screen.getByRole('region', { name: 'Active model' })).getByText('Trained').nextSibling).toHaveTextContent('Yes');
  });

  it('says when no analysers are installed beside the classifier', async () => {
    signInForTest();
    mockAdminServer({
      'GET /api/model/': () => jsonResponse(modelCardFixture()),
      'GET /api/model/agreement/': () => jsonResponse({ name: 'densenet121-cxr', version: '1.0.0', findings: [] }),
      'GET /api/model/analysers/': () => jsonResponse([]),
    });
    renderApp('/model');

    expect(await screen.findByText('No analysers are installed beside the classifier.')).toBeInTheDocument();
  });
});
