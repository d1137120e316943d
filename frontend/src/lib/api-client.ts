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
  /** The Accept header (default application/json), e.g. text/event-stream for a stream. */
  accept?: string;
  /** Reports how much of a FormData body has been sent (the request then goes by XMLHttpRequest). */
  onUploadProgress?: (progress: UploadProgress) => void;
};

export type UploadProgress = { loaded: number; total: number };

type BodylessOptions = Omit<RequestOptions, 'method' | 'body'>;

export type ApiClient = {
  request: (path: string, options?: RequestOptions) => Promise<Response>;
  get: <T>(path: string, options?: BodylessOptions) => Promise<T>;
  post: <T>(path: string, body?: unknown, options?: BodylessOptions) => Promise<T>;
  put: <T>(path: string, body?: unknown, options?: BodylessOptions) => Promise<T>;
  patch: <T>(path: string, body?: unknown, options?: BodylessOptions) => Promise<T>;
  getBlob: (path: string, options?: BodylessOptions) => Promise<Blob>;
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

// Statuses whose responses may not carry a body (the Response constructor refuses one).
const NULL_BODY_STATUSES = new Set([101, 204, 205, 304]);

function responseHeaders(raw: string): Headers {
  const headers = new Headers();
  for (const line of raw.trim().split(/[\r\n]+/)) {
    const separator = line.indexOf(':');
    if (separator > 0) headers.append(line.slice(0, separator).trim(), line.slice(separator + 1).trim());
  }
  return headers;
}

/** fetch() cannot report upload progress; XMLHttpRequest can. Answers a Response like fetch. */
function sendWithProgress(
  url: string,
  init: { method: string; headers: Headers; body: FormData; signal?: AbortSignal },
  onProgress: (progress: UploadProgress) => void,
): Promise<Response> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open(init.method, url);
    init.headers.forEach((value, key) => xhr.setRequestHeader(key, value));
    xhr.upload.onprogress = (event) => {
      if (event.lengthComputable) onProgress({ loaded: event.loaded, total: event.total });
    };
    xhr.onload = () => {
      const body = NULL_BODY_STATUSES.has(xhr.status) ? null : xhr.responseText;
      resolve(new Response(body, { status: xhr.status, headers: responseHeaders(xhr.getAllResponseHeaders()) }));
    };
    xhr.onerror = () => reject(new TypeError('Network request failed'));
    xhr.onabort = () => reject(new DOMException('The upload was cancelled.', 'AbortError'));
    init.signal?.addEventListener('abort', () => xhr.abort(), { once: true });
    xhr.send(init.body);
  });
}

async function parseJson<T>(response: Response): Promise<T> {
  const text = await response.text();
  return (text ? JSON.parse(text) : undefined) as T;
}

export function createApiClient({ tokens, baseUrl = '' }: { tokens: TokenStore; baseUrl?: string }): ApiClient {
  // One refresh at a time: concurrent requests that hit a 401 all await this promise.
  let refreshInFlight: Promise<string | null> | null = null;

  async function send(path: string, options: RequestOptions, accessToken: string | null): Promise<Response> {
    const headers = new Headers({ Accept: options.accept ?? 'application/json' });
    let body: BodyInit | undefined;
    if (options.body instanceof FormData) {
      body = options.body;
    } else if (options.body !== undefined) {
      headers.set('Content-Type', 'application/json');
      body = JSON.stringify(options.body);
    }
    if (accessToken) headers.set('Authorization', `Bearer ${accessToken}`);
    const url = buildUrl(baseUrl, path, options.params);
    const method = options.method ?? 'GET';
    try {
      if (options.onUploadProgress && body instanceof FormData) {
        return await sendWithProgress(
          url,
          { method, headers, body, signal: options.signal },
          options.onUploadProgress,
        );
      }
      return await fetch(url, { method, headers, body, signal: options.signal });
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
    async get<T>(path: string, options: BodylessOptions = {}) {
      return parseJson<T>(await request(path, { ...options, method: 'GET' }));
    },
    async post<T>(path: string, body?: unknown, options: BodylessOptions = {}) {
      return parseJson<T>(await request(path, { ...options, method: 'POST', body }));
    },
    async put<T>(path: string, body?: unknown, options: BodylessOptions = {}) {
      return parseJson<T>(await request(path, { ...options, method: 'PUT', body }));
    },
    async patch<T>(path: string, body?: unknown, options: BodylessOptions = {}) {
      return parseJson<T>(await request(path, { ...options, method: 'PATCH', body }));
    },
    async getBlob(path: string, options: BodylessOptions = {}) {
      return (await request(path, { ...options, method: 'GET' })).blob();
    },
  };
}

export const api = createApiClient({ tokens: tokenStore });
