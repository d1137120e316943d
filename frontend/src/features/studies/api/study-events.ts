import { type QueryClient, useQueryClient } from '@tanstack/react-query';
import { useEffect } from 'react';

import { api } from '@/lib/api-client';
import { liveStatus } from '@/lib/live-status';
import { readServerSentEvents } from '@/lib/server-sent-events';
import type { Study, StudyEvent } from '@/types/api';
import { hasWorkInProgress } from '@/utils/study-status';

import { studyStatusKey } from './get-study-status';

export const STUDY_EVENTS_PATH = '/api/studies/events/';
const MAX_RECONNECT_DELAY_MS = 30_000;

type StreamHandlers = { signal: AbortSignal; onReady: () => void; onStudy: (event: StudyEvent) => void };

/**
 * One connection to the event stream, until the server ends it (the access token expired) or it
 * fails. fetch() sends the bearer token in a header, so no token ever appears in a URL or a log;
 * the API client refreshes an expired one.
 */
export async function streamStudyEvents({ signal, onReady, onStudy }: StreamHandlers): Promise<void> {
  const response = await api.request(STUDY_EVENTS_PATH, { signal, accept: 'text/event-stream' });
  if (!response.body) throw new Error('The study event stream answered without a body.');
  let subscribed = false;
  for await (const message of readServerSentEvents(response.body)) {
    if (message.event === 'ready') {
      subscribed = true;
      onReady();
    } else if (message.event === 'study') {
      onStudy(JSON.parse(message.data) as StudyEvent);
    }
  }
  // A stream that ends before it was ever ready is a failure (a proxy cut it), not an expired
  // token: it must wait for the backoff rather than reconnect at once, again and again.
  if (!subscribed) throw new Error('The study event stream ended before it was ready.');
}

/** 1 s, 2 s, 4 s… up to 30 s, each drawn from its upper half so clients do not all return at once. */
export function reconnectDelay(failures: number): number {
  const ceiling = Math.min(MAX_RECONNECT_DELAY_MS, 1_000 * 2 ** Math.max(failures - 1, 0));
  return ceiling / 2 + (Math.random() * ceiling) / 2;
}

// A study query holds a Study, a study-status query a StudyEvent (no analysers): both have a status.
const inProgressData = (data: unknown) =>
  typeof data === 'object' && data !== null && 'status' in data && hasWorkInProgress(data as Study);

/** What was fetched before the stream was (re)subscribed may be stale: refetch it once. */
export function refetchAfterSubscribing(queryClient: QueryClient): void {
  void queryClient.invalidateQueries({ queryKey: ['studies'] });
  for (const key of ['study', 'study-status']) {
    void queryClient.invalidateQueries({ queryKey: [key], predicate: (query) => inProgressData(query.state.data) });
  }
}

export function applyStudyEvent(queryClient: QueryClient, event: StudyEvent): void {
  queryClient.setQueryData(studyStatusKey(event.id), event);
  void queryClient.invalidateQueries({ queryKey: ['studies'] });
  void queryClient.invalidateQueries({ queryKey: ['study', event.id] });
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true });
  });
}

/** Keeps the stream open, reconnecting with backoff after a failure, until the signal aborts. */
export async function followStudyEvents(queryClient: QueryClient, signal: AbortSignal): Promise<void> {
  let failures = 0;
  while (!signal.aborted) {
    try {
      await streamStudyEvents({
        signal,
        onReady: () => {
          failures = 0;
          liveStatus.setConnected(true);
          refetchAfterSubscribing(queryClient);
        },
        onStudy: (event) => applyStudyEvent(queryClient, event),
      });
      // A clean end (the token expired): reconnect at once with a fresh token.
      liveStatus.setConnected(false);
    } catch {
      if (signal.aborted) break;
      failures += 1;
      liveStatus.setConnected(false);
      await sleep(reconnectDelay(failures), signal);
    }
  }
  liveStatus.setConnected(false);
}

/** Follows the live status of the signed-in user's studies while ``enabled``. */
export function useStudyEvents(enabled: boolean): void {
  const queryClient = useQueryClient();
  useEffect(() => {
    if (!enabled) return;
    const controller = new AbortController();
    void followStudyEvents(queryClient, controller.signal);
    return () => {
      controller.abort();
      liveStatus.setConnected(false);
    };
  }, [enabled, queryClient]);
}
