import { describe, expect, it } from 'vitest';

import { validationAuroc } from './model-validation';

describe('validation AUROC from a model card', () => {
  it('reads a mean and a per-finding table', () => {
    expect(validationAuroc({ mean_auroc: 0.84, auroc: { Cardiomegaly: 0.91, Effusion: 0.88 } })).toEqual({
      mean: 0.84,
      perLabel: { Cardiomegaly: 0.91, Effusion: 0.88 },
    });
  });

  it('reads per-finding objects that hold an auroc, ignoring confidence intervals', () => {
    const validation = {
      per_label: { Cardiomegaly: { auroc: 0.9, auroc_ci95: [0.85, 0.95] }, Hernia: { auroc: null } },
      auroc: 0.8,
    };
    expect(validationAuroc(validation, ['Cardiomegaly', 'Hernia'])).toEqual({
      mean: 0.8,
      perLabel: { Cardiomegaly: 0.9 },
    });
  });

  it('finds nothing in a missing or unrelated validation', () => {
    expect(validationAuroc(null)).toEqual({ mean: null, perLabel: {} });
    expect(validationAuroc({ loss: 0.2 })).toEqual({ mean: null, perLabel: {} });
  });
});
