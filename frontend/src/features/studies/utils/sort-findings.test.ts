import { describe, expect, it } from 'vitest';

import { studyFixture } from '@/testing/fixtures';

import { sortFindings } from './sort-findings';

const finding = studyFixture().findings[0]!;

describe('order of findings', () => {
  it('puts positives first, then the higher calibrated score first even where its raw probability is lower', () => {
    const findings = [
      { ...finding, label: 'Mass', probability: 0.3, threshold: 0.5, positive: false, calibrated_score: 0.3 },
      { ...finding, label: 'Hernia', probability: 0.05, threshold: 0.001, positive: true, calibrated_score: 0.52 },
      { ...finding, label: 'Nodule', probability: 0.02, threshold: 0.03, positive: false, calibrated_score: 0.33 },
      { ...finding, label: 'Effusion', probability: 0.7, threshold: 0.6, positive: true, calibrated_score: 0.625 },
    ];
    expect(sortFindings(findings).map((item) => item.label)).toEqual(['Effusion', 'Hernia', 'Nodule', 'Mass']);
  });
});
