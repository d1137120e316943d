import { screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';

import { tokenStore } from '@/lib/token-store';
import { clinician, healthFixture } from '@/testing/fixtures';
import { jsonResponse, mockFetch } from '@/testing/mock-fetch';
import { renderApp } from '@/testing/render-app';

const emptyStudies = { count: 0, next: null, previous: null, results: [] };

describe('sign-in form', () => {
  it('posts the typed credentials and shows the server message on a 401', async () => {
    const { requests } = mockFetch({
      'GET /api/health/': () => jsonResponse(healthFixture({ trained: true })),
      'POST /api/auth/token/': () =>
        jsonResponse({ message: 'No active account found with the given credentials', extra: {} }, 401),
    });
    renderApp('/sign-in');

    await userEvent.type(screen.getByLabelText('Username'), 'dr.house');
    await userEvent.type(screen.getByLabelText('Password'), 'wrong');
    await userEvent.click(screen.getByRole('button', { name: 'Sign in' }));

    expect(await screen.findByRole('alert')).toHaveTextContent('No active account found with the given credentials');
    const tokenRequest = requests.find((request) => request.url.pathname === '/api/auth/token/');
    expect(JSON.parse(String(tokenRequest?.body))).toEqual({ username: 'dr.house', password: 'wrong' });
    expect(tokenStore.getRefreshToken()).toBeNull();
  });

  it('stores the tokens and opens my studies with the user in the header on success', async () => {
    mockFetch({
      'GET /api/health/': () => jsonResponse(healthFixture({ trained: true })),
      'POST /api/auth/token/': () => jsonResponse({ access: 'a1', refresh: 'r1' }),
      'GET /api/auth/me/': () => jsonResponse(clinician),
      'GET /api/studies/': () => jsonResponse(emptyStudies),
    });
    const { router } = renderApp('/sign-in');

    await userEvent.type(screen.getByLabelText('Username'), 'dr.house');
    await userEvent.type(screen.getByLabelText('Password'), 'right');
    await userEvent.click(screen.getByRole('button', { name: 'Sign in' }));

    expect(await screen.findByRole('heading', { name: 'My studies' })).toBeInTheDocument();
    expect(await screen.findByText('dr.house')).toBeInTheDocument();
    expect(screen.getByRole('button', { name: 'Sign out' })).toBeInTheDocument();
    expect(router.state.location.pathname).toBe('/');
    expect(window.localStorage.getItem('cxr.refreshToken')).toBe('r1');
  });

  it('sends visitors without a session from a study page to sign-in', async () => {
    mockFetch({ 'GET /api/health/': () => jsonResponse(healthFixture({ trained: true })) });
    const { router } = renderApp('/studies/7');

    expect(await screen.findByRole('button', { name: 'Sign in' })).toBeInTheDocument();
    expect(router.state.location.pathname).toBe('/sign-in');
  });
});
