import { screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, describe, expect, it, vi } from 'vitest';

import { tokenStore } from '@/lib/token-store';
import { clinician, healthFixture } from '@/testing/fixtures';
import { jsonResponse, mockFetch } from '@/testing/mock-fetch';
import { renderApp } from '@/testing/render-app';

const emptyStudies = { count: 0, next: null, previous: null, results: [] };
const END_SESSION_URL = 'https://sso.hospital.example/logout?id_token_hint=t';

function mockHospitalSignIn(callback: () => Response) {
  return mockFetch({
    'GET /api/health/': () => jsonResponse(healthFixture({ trained: true })),
    'GET /api/auth/oidc/': () => jsonResponse({ enabled: true, provider_name: 'your hospital' }),
    'POST /api/auth/oidc/callback/': callback,
    'GET /api/auth/me/': () => jsonResponse(clinician),
    'GET /api/studies/': () => jsonResponse(emptyStudies),
    'POST /api/auth/token/blacklist/': () => jsonResponse({}),
  });
}

describe('hospital sign-in', () => {
  afterEach(() => vi.unstubAllGlobals());

  it('offers "Sign in with your hospital" beside the local form when the service is configured for it', async () => {
    mockHospitalSignIn(() => jsonResponse({}, 500));
    renderApp('/sign-in');

    const link = await screen.findByRole('link', { name: 'Sign in with your hospital' });
    expect(link).toHaveAttribute('href', '/api/auth/oidc/authorize/');
    expect(screen.getByRole('button', { name: 'Sign in' })).toBeInTheDocument();
  });

  it('offers no hospital sign-in when it is not configured', async () => {
    const { requests } = mockFetch({
      'GET /api/health/': () => jsonResponse(healthFixture({ trained: true })),
      'GET /api/auth/oidc/': () => jsonResponse({ enabled: false, provider_name: 'your hospital' }),
    });
    renderApp('/sign-in');

    await screen.findByRole('button', { name: 'Sign in' });
    await vi.waitFor(() => expect(requests.some((request) => request.url.pathname === '/api/auth/oidc/')).toBe(true));
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(screen.queryByRole('link', { name: /Sign in with/ })).not.toBeInTheDocument();
  });

  it("sends the provider's code and state once, stores the service's tokens and opens the worklist", async () => {
    const { requests } = mockHospitalSignIn(() =>
      jsonResponse({ access: 'a1', refresh: 'r1', end_session_url: END_SESSION_URL }),
    );
    const { router } = renderApp('/sign-in/callback?code=c0de&state=st4te');

    expect(await screen.findByRole('heading', { name: 'My studies' })).toBeInTheDocument();
    const callbacks = requests.filter((request) => request.url.pathname === '/api/auth/oidc/callback/');
    expect(callbacks.map((request) => JSON.parse(String(request.body)))).toEqual([{ code: 'c0de', state: 'st4te' }]);
    expect(tokenStore.getRefreshToken()).toBe('r1');
    expect(router.state.location.pathname).toBe('/');
  });

  it("shows the service's reason when it refuses the sign-in, with a way back", async () => {
    mockHospitalSignIn(() =>
      jsonResponse({ message: 'Your hospital account has no role in this service.', extra: { claim: 'groups' } }, 403),
    );
    renderApp('/sign-in/callback?code=c0de&state=st4te');

    expect(await screen.findByRole('alert')).toHaveTextContent('Your hospital account has no role in this service.');
    expect(screen.getByRole('link', { name: 'Back to sign-in' })).toHaveAttribute('href', '/sign-in');
    expect(tokenStore.getRefreshToken()).toBeNull();
  });

  it("shows the provider's own refusal without asking the service", async () => {
    const { requests } = mockHospitalSignIn(() => jsonResponse({}, 500));
    renderApp('/sign-in/callback?error=access_denied&error_description=The+user+cancelled');

    expect(await screen.findByRole('alert')).toHaveTextContent("The hospital's sign-in provider refused: The user cancelled");
    expect(requests.some((request) => request.url.pathname === '/api/auth/oidc/callback/')).toBe(false);
  });

  it("signing out after a hospital sign-in goes on to end the provider's session", async () => {
    const assign = vi.fn();
    vi.stubGlobal('location', { ...window.location, assign });
    mockHospitalSignIn(() => jsonResponse({ access: 'a1', refresh: 'r1', end_session_url: END_SESSION_URL }));
    renderApp('/sign-in/callback?code=c0de&state=st4te');

    await userEvent.click(await screen.findByRole('button', { name: 'Sign out' }));

    await vi.waitFor(() => expect(assign).toHaveBeenCalledWith(END_SESSION_URL));
    expect(tokenStore.getRefreshToken()).toBeNull();
    expect(window.localStorage.getItem('cxr.endSessionUrl')).toBeNull();
  });
});
