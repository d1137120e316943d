import { describe, expect, it } from 'vitest';

import { jsonResponse, type MockRequest, mockFetch } from '@/testing/mock-fetch';

import { createApiClient } from './api-client';
import { ApiError } from './api-error';
import { createTokenStore } from './token-store';

const bearer = (request: MockRequest) => request.headers.get('Authorization');

// An empty access token stands for a reload: the in-memory access token is gone,
// the refresh token in localStorage stays.
function setup(access: string, refresh: string | null) {
  const tokens = createTokenStore();
  if (refresh) tokens.setTokens(access, refresh);
  return { tokens, client: createApiClient({ tokens }) };
}

/** /api/auth/me/ accepts only "Bearer fresh-access"; the refresh endpoint mints it. */
function mockServer() {
  let refreshCalls = 0;
  const mock = mockFetch({
    'GET /api/auth/me/': (request) =>
      bearer(request) === 'Bearer fresh-access'
        ? jsonResponse({ id: 1, username: 'dr.house', role: 'clinician' })
        : jsonResponse({ message: 'Given token not valid for any token type', extra: {} }, 401),
    'POST /api/auth/token/refresh/': async () => {
      refreshCalls += 1;
      await new Promise((resolve) => setTimeout(resolve, 10));
      return jsonResponse({ access: 'fresh-access', refresh: 'rotated-refresh' });
    },
  });
  return { ...mock, refreshCalls: () => refreshCalls };
}

describe('api client token refresh', () => {
  it('refreshes once on a 401, stores the rotated tokens and retries the request', async () => {
    const { tokens, client } = setup('expired-access', 'old-refresh');
    const server = mockServer();

    const me = await client.get<{ username: string }>('/api/auth/me/');

    expect(me.username).toBe('dr.house');
    expect(server.refreshCalls()).toBe(1);
    const refreshRequest = server.requests.find((request) => request.url.pathname === '/api/auth/token/refresh/');
    expect(JSON.parse(String(refreshRequest?.body))).toEqual({ refresh: 'old-refresh' });
    expect(server.requests.map((request) => `${request.url.pathname} ${bearer(request) ?? '-'}`)).toEqual([
      '/api/auth/me/ Bearer expired-access',
      '/api/auth/token/refresh/ -',
      '/api/auth/me/ Bearer fresh-access',
    ]);
    expect(tokens.getAccessToken()).toBe('fresh-access');
    expect(tokens.getRefreshToken()).toBe('rotated-refresh');
    expect(window.localStorage.getItem('cxr.refreshToken')).toBe('rotated-refresh');
  });

  it('shares one refresh between concurrent requests that all get a 401', async () => {
    const { client } = setup('expired-access', 'old-refresh');
    const server = mockServer();

    const results = await Promise.all([
      client.get('/api/auth/me/'),
      client.get('/api/auth/me/'),
      client.get('/api/auth/me/'),
    ]);

    expect(results).toHaveLength(3);
    expect(server.refreshCalls()).toBe(1);
    const retried = server.requests.filter((request) => bearer(request) === 'Bearer fresh-access');
    expect(retried).toHaveLength(3);
  });

  it('mints an access token from the stored refresh token before the first request after a reload', async () => {
    const { client } = setup('', 'old-refresh');
    const server = mockServer();

    await client.get('/api/auth/me/');

    expect(server.refreshCalls()).toBe(1);
    expect(server.requests.map((request) => request.url.pathname)).toEqual([
      '/api/auth/token/refresh/',
      '/api/auth/me/',
    ]);
  });

  it('signs out (clears both tokens) and throws the 401 when the refresh is refused', async () => {
    const { tokens, client } = setup('expired-access', 'blacklisted-refresh');
    mockFetch({
      'GET /api/auth/me/': () => jsonResponse({ message: 'Given token not valid for any token type' }, 401),
      'POST /api/auth/token/refresh/': () => jsonResponse({ message: 'Token is blacklisted' }, 401),
    });

    const error = await client.get('/api/auth/me/').catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).status).toBe(401);
    expect(tokens.getAccessToken()).toBeNull();
    expect(tokens.getRefreshToken()).toBeNull();
    expect(window.localStorage.getItem('cxr.refreshToken')).toBeNull();
  });

  it('does not refresh for unauthenticated requests such as sign-in', async () => {
    const { client } = setup('', null);
    const { requests } = mockFetch({
      'POST /api/auth/token/': () =>
        jsonResponse({ message: 'No active account found with the given credentials', extra: {} }, 401),
    });

    await expect(client.post('/api/auth/token/', { username: 'a', password: 'b' }, { auth: false })).rejects.toThrow(
      'No active account found with the given credentials',
    );
    expect(requests).toHaveLength(1);
  });

  it('reports upload progress through XMLHttpRequest, with the bearer token and one refresh on a 401', async () => {
    const { client } = setup('expired-access', 'old-refresh');
    const { requests } = mockFetch({
      'POST /api/studies/': (request) =>
        bearer(request) === 'Bearer fresh-access'
          ? jsonResponse({ id: 'abc', status: 'queued', cached: false }, 202)
          : jsonResponse({ message: 'Given token not valid for any token type', extra: {} }, 401),
      'POST /api/auth/token/refresh/': () => jsonResponse({ access: 'fresh-access', refresh: 'rotated-refresh' }),
    });
    const progress: number[] = [];

    const created = await client.post<{ id: string }>('/api/studies/', new FormData(), {
      onUploadProgress: ({ loaded, total }) => progress.push(loaded / total),
    });

    expect(created.id).toBe('abc');
    expect(progress).toEqual([0.5, 1, 0.5, 1]);
    expect(requests.map((request) => `${request.url.pathname} ${bearer(request) ?? '-'}`)).toEqual([
      '/api/studies/ Bearer expired-access',
      '/api/auth/token/refresh/ -',
      '/api/studies/ Bearer fresh-access',
    ]);
  });

  it('falls back to a readable message when an error body is not the API error shape', async () => {
    const { client } = setup('access', 'refresh');
    mockFetch({ 'POST /api/studies/': () => new Response('<html>413</html>', { status: 413 }) });

    await expect(client.post('/api/studies/', new FormData())).rejects.toThrow('The file is too large.');
  });
});
