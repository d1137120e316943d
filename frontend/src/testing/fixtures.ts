import type { Health, ModelCard, Study, StudySummary, User } from '@/types/api';

export const clinician: User = {
  id: 1,
  username: 'dr.house',
  email: 'house@hospital.example',
  role: 'clinician',
  is_active: true,
  date_joined: '2025-01-01T09:00:00Z',
  last_login: '2025-01-02T09:00:00Z',
};

export const admin: User = { ...clinician, id: 2, username: 'admin.cuddy', email: '', role: 'admin' };

export const STUDY_ID = '7';

export function healthFixture({ trained }: { trained: boolean }): Health {
  return {
    status: 'ok',
    checks: {
      database: { ok: true, engine: 'postgresql' },
      cache: { ok: true },
      broker: { ok: true },
      model: { ok: true, name: 'densenet121-cxr', version: '1.0.0', trained, weights_sha256: null },
    },
  };
}

export function summaryFixture(overrides: Partial<StudySummary> = {}): StudySummary {
  return {
    id: STUDY_ID,
    status: 'done',
    created_at: '2025-01-02T10:00:00Z',
    finished_at: '2025-01-02T10:00:05Z',
    original_filename: 'chest.png',
    cached: false,
    message: '',
    top_finding: { label: 'Cardiomegaly', probability: 0.632, calibrated_score: 0.632 },
    positive_labels: ['Cardiomegaly', 'Pleural_Thickening'],
    ...overrides,
  };
}

export function studyFixture(overrides: Partial<Study> = {}): Study {
  return {
    ...summaryFixture(),
    image: '/api/studies/7/image/',
    width: 1024,
    height: 1024,
    metadata: {
      modality: null,
      body_part: null,
      view_position: null,
      patient_age_years: null,
      patient_sex: null,
      pixel_spacing_mm: null,
    },
    screening: null,
    model: {
      name: 'densenet121-cxr',
      version: '1.0.0',
      weights_sha256: 'ab'.repeat(32),
      trained: true,
      training_data: 'NIH ChestX-ray14 train split',
      validation: validationFixture(),
    },
    findings: [
      { label: 'Effusion', probability: 0.48, threshold: 0.6, positive: false, calibrated_score: 0.4, heatmap: '/api/studies/7/heatmaps/Effusion/' },
      { label: 'Pleural_Thickening', probability: 0.42, threshold: 0.3, positive: true, calibrated_score: 0.5857, heatmap: '/api/studies/7/heatmaps/Pleural_Thickening/' },
      { label: 'Cardiomegaly', probability: 0.632, threshold: 0.5, positive: true, calibrated_score: 0.632, heatmap: '/api/studies/7/heatmaps/Cardiomegaly/' },
      { label: 'Hernia', probability: 0.012, threshold: 0.2, positive: false, calibrated_score: 0.03, heatmap: '/api/studies/7/heatmaps/Hernia/' },
    ],
    ...overrides,
  };
}

/** Validation figures in the card's one schema (ml/src/ml/weights/validation.py). */
export function validationFixture(): NonNullable<ModelCard['validation']> {
  const finding = (auroc: number) => ({
    positives: 20,
    negatives: 180,
    auroc,
    auroc_ci95: [auroc - 0.05, Math.min(1, auroc + 0.04)],
    threshold: 0.5,
    threshold_from: 'validation' as const,
    sensitivity: 0.8,
    specificity: 0.85,
    ppv: 0.37,
    f1: 0.5,
  });
  return {
    split: { by: 'Patient ID', val_fraction: 0.1, seed: 0 },
    images: 200,
    patients: 80,
    mean_auroc: 0.84,
    mean_auroc_ci95: [0.8, 0.88],
    threshold_method: 'f1',
    best_epoch: { stage: 'finetune', epoch: 3, val_mean_auroc: 0.84 },
    findings: { Cardiomegaly: finding(0.91), Effusion: finding(0.88) },
  };
}

export function modelCardFixture(overrides: Partial<ModelCard> = {}): ModelCard {
  const labels = ['Cardiomegaly', 'Effusion', 'Hernia', 'Pleural_Thickening'];
  return {
    name: 'densenet121-cxr',
    version: '1.0.0',
    trained: true,
    labels,
    thresholds: Object.fromEntries(labels.map((label) => [label, 0.5])),
    input_size: 224,
    input_channels: 1,
    preprocessing: { colour: 'greyscale', resize: 224 },
    weights_sha256: 'ab'.repeat(32),
    training_data: 'NIH ChestX-ray14 train split',
    validation: validationFixture(),
    ...overrides,
  };
}
