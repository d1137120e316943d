import { describe, expect, it } from 'vitest';

import { describeAggregation } from './aggregation';

describe('describeAggregation', () => {
  it('names the rule and the number of frontal images in plain words', () => {
    expect(describeAggregation({ rule: 'mean', images: 2 })).toBe('mean of 2 frontal images');
    expect(describeAggregation({ rule: 'max', images: 3 })).toBe('highest of 3 frontal images');
    expect(describeAggregation({ rule: 'mean', images: 1 })).toBe('mean of 1 frontal image');
  });
});
