import type { Aggregation } from '@/types/api';

const RULE_WORDS: Record<Aggregation['rule'], string> = { mean: 'mean', max: 'highest' };

/** The study-level rule in plain words, e.g. "mean of 2 frontal images". */
export function describeAggregation(aggregation: Aggregation): string {
  const images = aggregation.images === 1 ? '1 frontal image' : `${aggregation.images} frontal images`;
  return `${RULE_WORDS[aggregation.rule]} of ${images}`;
}
