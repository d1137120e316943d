import { describe, expect, it } from 'vitest';

import { hasWorkInProgress } from './study-status';

describe('work in progress on a study', () => {
  it('counts the study\'s own analysis while it is queued or running', () => {
    expect(hasWorkInProgress({ status: 'queued' })).toBe(true);
    expect(hasWorkInProgress({ status: 'running' })).toBe(true);
    expect(hasWorkInProgress({ status: 'done' })).toBe(false);
    expect(hasWorkInProgress({ status: 'failed' })).toBe(false);
  });

  it('counts a done study whose screener or segmentation is still queued or running', () => {
    expect(hasWorkInProgress({ status: 'done', screener: { status: 'queued' }, segmentation: null })).toBe(true);
    expect(hasWorkInProgress({ status: 'done', screener: { status: 'done' }, segmentation: { status: 'running' } })).toBe(true);
    expect(hasWorkInProgress({ status: 'done', screener: { status: 'failed' }, segmentation: { status: 'done' } })).toBe(false);
    expect(hasWorkInProgress({ status: 'done', screener: null, segmentation: null })).toBe(false);
  });
});
