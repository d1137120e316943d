import { describe, expect, it } from 'vitest';

import type { StudyStatus, StudySummary } from '@/types/api';

import { studiesPollInterval } from './get-studies';

const page = (statuses: StudyStatus[]) => ({
  count: statuses.length,
  next: null,
  previous: null,
  results: statuses.map(
    (status, index): StudySummary => ({
      id: index,
      status,
      created_at: '2025-01-02T10:00:00Z',
      finished_at: null,
      original_filename: `${status}.png`,
      cached: false,
      message: null,
    }),
  ),
});

describe('studies list polling', () => {
  it('polls every 2 s while any study is queued or running', () => {
    expect(studiesPollInterval(page(['done', 'queued']))).toBe(2000);
    expect(studiesPollInterval(page(['running', 'failed']))).toBe(2000);
  });

  it('stops polling once every study is done or failed', () => {
    expect(studiesPollInterval(page(['done', 'failed']))).toBe(false);
    expect(studiesPollInterval(page([]))).toBe(false);
    expect(studiesPollInterval(undefined)).toBe(false);
  });
});
