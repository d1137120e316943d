import { describe, expect, it } from 'vitest';

import { segmentationFixture, studyFixture } from '@/testing/fixtures';
import type { Finding } from '@/types/api';

import { findingChanges, formatChangePp, formatRatioChange, ratioChange } from './prior-changes';

const finding = (label: string, probability: number, threshold = 0.5): Finding => ({
  label,
  probability,
  threshold,
  positive: probability >= threshold,
  calibrated_score: probability,
  heatmap: `/api/studies/7/heatmaps/${label}/`,
});

describe('findingChanges', () => {
  it('gives each shared finding its change in percentage points, in the current order, and whether it crossed its threshold', () => {
    const current = [finding('Effusion', 0.62), finding('Cardiomegaly', 0.3), finding('Mass', 0.2), finding('Hernia', 0.01)];
    const prior = [finding('Hernia', 0.01), finding('Cardiomegaly', 0.55), finding('Effusion', 0.41)];

    const changes = findingChanges(current, prior);

    expect(changes.map((change) => change.label)).toEqual(['Effusion', 'Cardiomegaly', 'Hernia']);
    const [effusion, cardiomegaly, hernia] = changes;
    expect(effusion!.changePp).toBeCloseTo(21, 9);
    expect(effusion).toMatchObject({ direction: 'up', crossed: 'became-positive', current: 0.62, prior: 0.41 });
    expect(cardiomegaly!.changePp).toBeCloseTo(-25, 9);
    expect(cardiomegaly).toMatchObject({ direction: 'down', crossed: 'became-negative' });
    expect(hernia).toMatchObject({ direction: 'same', crossed: null });
    expect(changes.map(formatChangePp)).toEqual(['↑ +21.0 pp', '↓ −25.0 pp', '→ ±0.0 pp']);
  });

  it('calls a change that rounds to 0.0 pp no change, and one that rounds to 0.1 pp a change', () => {
    const [tiny] = findingChanges([finding('Mass', 0.3004)], [finding('Mass', 0.3)]);
    const [small] = findingChanges([finding('Mass', 0.2994)], [finding('Mass', 0.3)]);
    expect(formatChangePp(tiny!)).toBe('→ ±0.0 pp');
    expect(formatChangePp(small!)).toBe('↓ −0.1 pp');
  });
});

describe('ratioChange', () => {
  const withRatio = (ratio: number) =>
    studyFixture({
      segmentation: segmentationFixture({
        cardiothoracic_ratio: { ...segmentationFixture().cardiothoracic_ratio!, ratio },
      }),
    });

  it('is the cardiothoracic ratio now minus before when both studies have one', () => {
    const change = ratioChange(withRatio(0.56), withRatio(0.49));
    expect(change).not.toBeNull();
    expect(change!.change).toBeCloseTo(0.07, 9);
    expect(formatRatioChange(change!)).toBe('↑ +0.07');
    expect(formatRatioChange(ratioChange(withRatio(0.5), withRatio(0.502))!)).toBe('→ ±0.00');
  });

  it('is null when either study has no ratio (an untrained segmentation, or none run)', () => {
    expect(ratioChange(withRatio(0.5), studyFixture({ segmentation: null }))).toBeNull();
    expect(
      ratioChange(studyFixture({ segmentation: segmentationFixture({ cardiothoracic_ratio: null }) }), withRatio(0.5)),
    ).toBeNull();
  });
});
