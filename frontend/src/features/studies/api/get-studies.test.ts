import { describe, expect, it } from 'vitest';

import { summaryFixture } from '@/testing/fixtures';
import type { StudyStatus } from '@/types/api';

import { studiesPollInterval } from './get-studies';

const page = (statuses: StudyStatus[]) => ({
  count: statuses.length,
  next: null,
  previous: null,
  results: statuses.map((status, index) =>
    summaryFixture({ id: String(index), status, original_filename: `${status}.png` }),
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
