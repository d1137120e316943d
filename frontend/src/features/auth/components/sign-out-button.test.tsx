import { screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';

import { tokenStore } from '@/lib/token-store';
import { clinician, healthFixture } from '@/testing/fixtures';
import { jsonResponse, mockFetch } from '@/testing/mock-fetch';
import { renderApp, signInForTest } from '@/testing/render-app';

describe('sign-out button', () => {
  it('blacklists the refresh token, clears the session and returns to sign-in', async () => {
    const { requests } = mockFetch({
      'GET /api/health/': () => jsonResponse(healthFixture({ trained: true })),
      'GET /api/auth/me/': () => jsonResponse(clinician),
      'GET /api/studies/': () => jsonResponse({ count: 0, next: null, previous: null, results: [] }),
      'POST /api/auth/token/blacklist/': () => jsonResponse({}),
    });
    signInForTest();
    const { router } = renderApp('/');

    await userEvent.click(await screen.findByRole('button', { name: 'Sign out' }));

    expect(await screen.findByRole('button', { name: 'Sign in' })).toBeInTheDocument();
    const blacklist = requests.find((request) => request.url.pathname === '/api/auth/token/blacklist/');
    expect(JSON.parse(String(blacklist?.body))).toEqual({ refresh: 'refresh-1' });
    expect(tokenStore.getRefreshToken()).toBeNull();
    expect(router.state.location.pathname).toBe('/sign-in');
  });
});
