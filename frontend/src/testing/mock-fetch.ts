import { vi } from 'vitest';

export type MockRequest = {
  method: string;
  url: URL;
  headers: Headers;
  body: BodyInit | null | undefined;
  signal?: AbortSignal | null;
};

export type MockHandler = (request: MockRequest) => Response | Promise<Response>;

export function jsonResponse(body: unknown, status = 200): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } });
}

// jsdom's Blob is not a body Node's Response understands, so the bytes go in directly.
export function pngResponse(): Response {
  return new Response(new Uint8Array([137, 80, 78, 71]), { headers: { 'Content-Type': 'image/png' } });
}

export function pdfResponse(): Response {
  return new Response(new TextEncoder().encode('%PDF-1.4 test'), {
    headers: { 'Content-Type': 'application/pdf' },
  });
}

/**
 * Replaces global fetch (and XMLHttpRequest, which uploads use for their progress events) with a
 * router keyed by "METHOD /path/" (query string ignored). Unrouted requests answer 404 so a test
 * fails loudly instead of hanging.
 */
export function mockFetch(routes: Record<string, MockHandler>) {
  const requests: MockRequest[] = [];

  async function route(request: MockRequest): Promise<Response> {
    requests.push(request);
    const handler = routes[`${request.method} ${request.url.pathname}`];
    if (!handler) return jsonResponse({ message: `No mock for ${request.method} ${request.url.pathname}` }, 404);
    return handler(request);
  }

  const fetchMock = vi.fn(async (input: RequestInfo | URL, init?: RequestInit) =>
    route({
      method: init?.method ?? 'GET',
      url: new URL(String(input), 'http://localhost'),
      headers: new Headers(init?.headers),
      body: init?.body,
      signal: init?.signal,
    }),
  );
  vi.stubGlobal('fetch', fetchMock);
  vi.stubGlobal('XMLHttpRequest', createFakeXhr(route));
  return { fetchMock, requests };
}

type ProgressHandler = ((event: { lengthComputable: boolean; loaded: number; total: number }) => void) | null;

/** Just enough of XMLHttpRequest for the API client's upload path, answered by the mock routes. */
function createFakeXhr(route: (request: MockRequest) => Promise<Response>) {
  return class FakeXhr {
    status = 0;
    responseText = '';
    upload: { onprogress: ProgressHandler } = { onprogress: null };
    onload: (() => void) | null = null;
    onerror: (() => void) | null = null;
    onabort: (() => void) | null = null;
    private method = 'GET';
    private url = '';
    private headers = new Headers();
    private responseHeaders = new Headers();

    open(method: string, url: string) {
      this.method = method;
      this.url = url;
    }

    setRequestHeader(name: string, value: string) {
      this.headers.set(name, value);
    }

    getAllResponseHeaders(): string {
      return [...this.responseHeaders.entries()].map(([name, value]) => `${name}: ${value}`).join('\r\n');
    }

    abort() {
      this.onabort?.();
    }

    send(body: BodyInit | null) {
      void (async () => {
        const response = await route({
          method: this.method,
          url: new URL(this.url, 'http://localhost'),
          headers: this.headers,
          body,
        });
        const size = body instanceof FormData ? 1000 : 0;
        this.upload.onprogress?.({ lengthComputable: true, loaded: size / 2, total: size });
        this.upload.onprogress?.({ lengthComputable: true, loaded: size, total: size });
        this.status = response.status;
        this.responseHeaders = response.headers;
        this.responseText = await response.text();
        this.onload?.();
      })();
    }
  };
}

export type EventStreamWriter = {
  send: (event: string, data: unknown) => void;
  /** The server ends the stream (as it does when the access token expires). */
  end: () => void;
};

/**
 * A route that answers text/event-stream responses the test writes to, one per connection, like
 * GET /api/studies/events/. Aborting the request errors its body, as fetch() does.
 */
export function eventStreamRoute() {
  const connections: EventStreamWriter[] = [];
  const encoder = new TextEncoder();
  const handler: MockHandler = (request) => {
    let controller!: ReadableStreamDefaultController<Uint8Array>;
    const body = new ReadableStream<Uint8Array>({ start: (started) => (controller = started) });
    request.signal?.addEventListener('abort', () => controller.error(new DOMException('Aborted', 'AbortError')));
    connections.push({
      send: (event, data) => controller.enqueue(encoder.encode(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`)),
      end: () => controller.close(),
    });
    return new Response(body, { headers: { 'Content-Type': 'text/event-stream' } });
  };
  return { handler, connections };
}
