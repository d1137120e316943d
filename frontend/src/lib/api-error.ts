import type { ApiErrorBody } from '@/types/api';

const FALLBACK_MESSAGES: Record<number, string> = {
  400: 'The request was not accepted.',
  401: 'You are not signed in.',
  403: 'You are not allowed to do that.',
  404: 'Not found.',
  413: 'The file is too large.',
  415: 'Unsupported file type.',
  429: 'Too many requests; please wait a moment and try again.',
};

export class ApiError extends Error {
  readonly status: number;
  readonly extra: Record<string, unknown>;

  constructor(status: number, message: string, extra: Record<string, unknown> = {}) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.extra = extra;
  }

  // A proxy in front of Django (nginx's 413, a gateway error) may answer with HTML,
  // so a body without the {message, extra} shape falls back to a message per status.
  static async fromResponse(response: Response): Promise<ApiError> {
    const fallback = FALLBACK_MESSAGES[response.status] ?? `Request failed (HTTP ${response.status}).`;
    try {
      const body = (await response.json()) as Partial<ApiErrorBody> | null;
      if (body && typeof body.message === 'string' && body.message) {
        return new ApiError(response.status, body.message, body.extra ?? {});
      }
    } catch {
      // Not JSON: use the fallback.
    }
    return new ApiError(response.status, fallback);
  }
}

export function errorMessage(error: unknown): string {
  if (error instanceof Error && error.message) return error.message;
  return 'Something went wrong.';
}
