import type { TokenPair } from '@/types/api';

import { ApiError } from './api-error';
import { type TokenStore, tokenStore } from './token-store';

type QueryParams = Record<string, string | number | undefined>;

export type RequestOptions = {
  method?: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** A plain object is sent as JSON; FormData as multipart. */
  body?: unknown;
  params?: QueryParams;
  /** Send the bearer token and refresh it on a 401 (default true). */
  auth?: boolean;
  /** Return error responses instead of throwing an ApiError (default true: throw). */
  throwOnError?: boolean;
  signal?: AbortSignal;
};

export type ApiClient = {
  request: (path: string, options?: RequestOptions) => Promise<Response>;
  get: <T>(path: string, options?: Omit<RequestOptions, 'method' | 'body'>) => Promise<T>;
  post: <T>(path: string, body?: unknown, options?: Omit<RequestOptions, 'method' | 'body'>) => Promise<T>;
  getBlob: (path: string, options?: Omit<RequestOptions, 'method' | 'body'>) => Promise<Blob>;
};

export const REFRESH_PATH = '/api/auth/token/refresh/';

function buildUrl(baseUrl: string, path: string, params?: QueryParams): string {
  const url = /^https?:\/\//.test(path) ? path : `${baseUrl}${path}`;
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(params ?? {})) {
    if (value !== undefined && value !== '') query.set(key, String(value));
  }
  const search = query.toString();
  if (!search) return url;
  return `${url}${url.includes('?') ? '&' : '?'}${search}`;
}

async function parseJson<T>(response: Response): Promise<T> {
  const text = await response.text();
  return (text ? JSON.parse(text) : undefined) as T;
}

export function createApiClient({ tokens, baseUrl = '' }: { tokens: TokenStore; baseUrl?: string }): ApiClient {
  // One refresh at a time: concurrent requests that hit a 401 all await this promise.
  let refreshInFlight: Promise<string | null> | null = null;

  async function send(path: string, options: RequestOptions, accessToken: string | null): Promise<Response> {
    const headers = new Headers({ Accept: 'application/json' });
    let body: BodyInit | undefined;
    if (options.body instanceof FormData) {
      body = options.body;
    } else if (options.body !== undefined) {
      headers.set('Content-Type', 'application/json');
      body = JSON.stringify(options.body);
    }
    if (accessToken) headers.set('Authorization', `Bearer ${accessToken}`);
    try {
      return await fetch(buildUrl(baseUrl, path, options.params), {
        method: options.method ?? 'GET',
        headers,
        body,
        signal: options.signal,
      });
    } catch (error) {
      if (error instanceof DOMException && error.name === 'AbortError') throw error;
      throw new ApiError(0, 'Could not reach the server. Check your connection and try again.');
    }
  }

  async function runRefresh(): Promise<string | null> {
    const refresh = tokens.getRefreshToken();
    if (!refresh) {
      tokens.clear();
      return null;
    }
    const response = await send(REFRESH_PATH, { method: 'POST', body: { refresh } }, null);
    if (!response.ok) {
      // The refresh token is expired, blacklisted or the user was deactivated:
      // clearing the tokens signs the user out (the router sends them to sign-in).
      tokens.clear();
      return null;
    }
    const pair = await parseJson<Partial<TokenPair>>(response);
    if (!pair?.access) {
      tokens.clear();
      return null;
    }
    // Refresh tokens rotate; keep the old one only if the server did not send a new one.
    tokens.setTokens(pair.access, pair.refresh ?? refresh);
    return pair.access;
  }

  function refreshAccessToken(): Promise<string | null> {
    refreshInFlight ??= runRefresh().finally(() => {
      refreshInFlight = null;
    });
    return refreshInFlight;
  }

  async function currentAccessToken(): Promise<string | null> {
    if (refreshInFlight) return refreshInFlight;
    const access = tokens.getAccessToken();
    if (access) return access;
    // After a reload only the refresh token is left: mint an access token first.
    return tokens.getRefreshToken() ? refreshAccessToken() : null;
  }

  async function request(path: string, options: RequestOptions = {}): Promise<Response> {
    const auth = options.auth ?? true;
    const usedToken = auth ? await currentAccessToken() : null;
    let response = await send(path, options, usedToken);

    if (auth && response.status === 401) {
      // Another request may already have refreshed since this one was sent; reuse its token
      // instead of rotating the refresh token a second time.
      const latest = tokens.getAccessToken();
      const fresh = latest && latest !== usedToken ? latest : await refreshAccessToken();
      if (fresh) response = await send(path, options, fresh);
    }

    if (!response.ok && (options.throwOnError ?? true)) throw await ApiError.fromResponse(response);
    return response;
  }

  return {
    request,
    async get<T>(path: string, options: Omit<RequestOptions, 'method' | 'body'> = {}) {
      return parseJson<T>(await request(path, { ...options, method: 'GET' }));
    },
    async post<T>(path: string, body?: unknown, options: Omit<RequestOptions, 'method' | 'body'> = {}) {
      return parseJson<T>(await request(path, { ...options, method: 'POST', body }));
    },
    async getBlob(path: string, options: Omit<RequestOptions, 'method' | 'body'> = {}) {
      return (await request(path, { ...options, method: 'GET' })).blob();
    },
  };
}

export const api = createApiClient({ tokens: tokenStore });
