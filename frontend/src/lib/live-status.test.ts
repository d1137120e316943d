import { describe, expect, it } from 'vitest';

import { FALLBACK_POLL_MS, fallbackPollInterval } from './live-status';

describe('polling of studies in progress', () => {
  it('never polls while the event stream is up', () => {
    expect(fallbackPollInterval({ inProgress: true, live: true })).toBe(false);
    expect(fallbackPollInterval({ inProgress: false, live: true })).toBe(false);
  });

  it('polls slowly only while the stream is down and a study is still in progress', () => {
    expect(fallbackPollInterval({ inProgress: true, live: false })).toBe(FALLBACK_POLL_MS);
    expect(fallbackPollInterval({ inProgress: false, live: false })).toBe(false);
    expect(FALLBACK_POLL_MS).toBeGreaterThanOrEqual(10_000);
  });
});
