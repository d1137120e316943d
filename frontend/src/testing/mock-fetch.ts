import { vi } from 'vitest';

export type MockRequest = {
  method: string;
  url: URL;
  headers: Headers;
  body: BodyInit | null | undefined;
};

export type MockHandler = (request: MockRequest) => Response | Promise<Response>;

export function jsonResponse(body: unknown, status = 200): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } });
}

// jsdom's Blob is not a body Node's Response understands, so the bytes go in directly.
export function pngResponse(): Response {
  return new Response(new Uint8Array([137, 80, 78, 71]), { headers: { 'Content-Type': 'image/png' } });
}

/**
 * Replaces global fetch with a router keyed by "METHOD /path/" (query string ignored).
 * Unrouted requests answer 404 so a test fails loudly instead of hanging.
 */
export function mockFetch(routes: Record<string, MockHandler>) {
  const requests: MockRequest[] = [];
  const fetchMock = vi.fn(async (input: RequestInfo | URL, init?: RequestInit) => {
    const request: MockRequest = {
      method: init?.method ?? 'GET',
      url: new URL(String(input), 'http://localhost'),
      headers: new Headers(init?.headers),
      body: init?.body,
    };
    requests.push(request);
    const handler = routes[`${request.method} ${request.url.pathname}`];
    if (!handler) return jsonResponse({ message: `No mock for ${request.method} ${request.url.pathname}` }, 404);
    return handler(request);
  });
  vi.stubGlobal('fetch', fetchMock);
  return { fetchMock, requests };
}
