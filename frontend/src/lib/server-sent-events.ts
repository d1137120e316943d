/** One server-sent event: its name (`event:` field, "message" when absent) and its data. */
export type ServerSentEvent = { event: string; data: string };

/**
 * Reads server-sent events from a response body. EventSource would do this, but it cannot send the
 * Authorization header; fetch() can, and hands over the body as a stream. Comment lines (the
 * server's heartbeats) are skipped.
 */
export async function* readServerSentEvents(body: ReadableStream<Uint8Array>): AsyncGenerator<ServerSentEvent> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  let event = 'message';
  let data: string[] = [];
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer += decoder.decode(value, { stream: true });
      const lines = buffer.split('\n');
      // The last piece is a line still arriving.
      buffer = lines.pop() ?? '';
      for (const line of lines.map((raw) => raw.replace(/\r$/, ''))) {
        if (line === '') {
          if (data.length > 0) yield { event, data: data.join('\n') };
          event = 'message';
          data = [];
        } else if (!line.startsWith(':')) {
          const colon = line.indexOf(':');
          const field = colon < 0 ? line : line.slice(0, colon);
          const fieldValue = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
          if (field === 'event') event = fieldValue;
          else if (field === 'data') data.push(fieldValue);
        }
      }
    }
  } finally {
    // Also when the reader of these events stops early: close the connection rather than leave it open.
    await reader.cancel().catch(() => undefined);
  }
}
