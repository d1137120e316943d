import { useSyncExternalStore } from 'react';

/**
 * Whether the study event stream is up. While it is, the studies' queries never poll: the stream
 * says when a study changes. While it is down, in-progress studies are polled slowly instead.
 */
export const FALLBACK_POLL_MS = 15_000;

let connected = false;
const listeners = new Set<() => void>();

export const liveStatus = {
  isConnected: () => connected,
  setConnected(value: boolean) {
    if (value === connected) return;
    connected = value;
    listeners.forEach((listener) => listener());
  },
  subscribe(listener: () => void) {
    listeners.add(listener);
    return () => listeners.delete(listener);
  },
};

export function useLiveStatusConnected(): boolean {
  return useSyncExternalStore(liveStatus.subscribe, liveStatus.isConnected);
}

/** How often a query of something still in progress is refetched: never while the stream is up. */
export function fallbackPollInterval({ inProgress, live }: { inProgress: boolean; live: boolean }): number | false {
  return inProgress && !live ? FALLBACK_POLL_MS : false;
}
