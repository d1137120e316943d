import { describe, expect, it } from 'vitest';

import { readServerSentEvents, type ServerSentEvent } from './server-sent-events';

function bodyOf(chunks: string[]): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  return new ReadableStream({
    start(controller) {
      chunks.forEach((chunk) => controller.enqueue(encoder.encode(chunk)));
      controller.close();
    },
  });
}

async function readAll(chunks: string[]): Promise<ServerSentEvent[]> {
  const events: ServerSentEvent[] = [];
  for await (const event of readServerSentEvents(bodyOf(chunks))) events.push(event);
  return events;
}

describe('reading server-sent events', () => {
  it('joins events split across chunks and skips heartbeat comments', async () => {
    const events = await readAll(['event: ready\ndata: {}\n\n: heart', 'beat\n\nevent: stu', 'dy\ndata: {"id":"1"}\n', '\n']);
    expect(events).toEqual([
      { event: 'ready', data: '{}' },
      { event: 'study', data: '{"id":"1"}' },
    ]);
  });

  it('names an event without an event field "message", joins data lines and accepts CRLF', async () => {
    expect(await readAll(['data: a\r\ndata: b\r\n\r\n'])).toEqual([{ event: 'message', data: 'a\nb' }]);
  });

  it('drops an event the stream ended in the middle of', async () => {
    expect(await readAll(['event: study\ndata: {"id":"1"}\n'])).toEqual([]);
  });
});
