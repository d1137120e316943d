import type {
  AnalyserCard,
  CTResult,
  Finding,
  FindingValidation,
  Health,
  ModelCard,
  ModelValidation,
  Screener,
  Segmentation,
  SegmentationOutlines,
  Study,
  StudyImage,
  StudySummary,
  User,
} from '@/types/api';

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
    kind: 'radiograph',
    original_filename: 'chest.png',
    cached: false,
    message: '',
    top_finding: { label: 'Cardiomegaly', probability: 0.632, calibrated_score: 0.632 },
    positive_labels: ['Cardiomegaly', 'Pleural_Thickening'],
    image_count: 1,
    screener: null,
    ct_result: null,
    read_at: null,
    triage_reason: 'score',
    triage_lifted_since: null,
    patient_age_years: null,
    patient_sex: null,
    view_position: null,
    uploaded_by: 'dr.house',
    threshold_profile: null,
    ...overrides,
  };
}

// What a PNG upload says about itself: nothing.
const NO_METADATA: Study['metadata'] = {
  modality: null,
  body_part: null,
  view_position: null,
  patient_age_years: null,
  patient_sex: null,
  pixel_spacing_mm: null,
};

/** One image of study 7, its findings' heatmaps at its own address. */
export function studyImageFixture(position: number, findings: Finding[], overrides: Partial<StudyImage> = {}): StudyImage {
  return {
    position,
    id: 100 + position,
    kind: 'radiograph',
    view: 'frontal',
    analysed: true,
    not_analysed_reason: '',
    original_filename: `chest-${position + 1}.png`,
    width: 1024,
    height: 1024,
    image: `/api/studies/7/images/${position}/`,
    metadata: NO_METADATA,
    screening: null,
    findings: findings.map((finding) => ({
      ...finding,
      heatmap: `/api/studies/7/images/${position}/heatmaps/${finding.label}/`,
    })),
    ...overrides,
  };
}

export function studyFixture(overrides: Partial<Study> = {}): Study {
  const study = baseStudyFixture();
  return { ...study, images: [studyImageFixture(0, study.findings)], ...overrides };
}

function baseStudyFixture(): Omit<Study, 'images'> {
  return {
    ...summaryFixture(),
    screener: null,
    image: '/api/studies/7/image/',
    key_image: 0,
    width: 1024,
    height: 1024,
    metadata: NO_METADATA,
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
    aggregation: { rule: 'mean', images: 1 },
    segmentation: null,
    ct: null,
    patient_known: false,
    prior: null,
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

function findingValidation(overrides: Partial<FindingValidation>): FindingValidation {
  return {
    positives: 20,
    negatives: 792,
    auroc: 0.91,
    auroc_ci95: [0.86, 0.95],
    threshold: 0.31,
    threshold_from: 'validation',
    sensitivity: 0.85,
    specificity: 0.88,
    ppv: 0.16,
    f1: 0.27,
    ...overrides,
  };
}

/** Validation figures in the card's one schema (ml/src/ml/weights/validation.py). */
export function validationFixture(overrides: Partial<ModelValidation> = {}): ModelValidation {
  return {
    split: { by: 'patient', fraction: 0.1, seed: 0 },
    images: 812,
    patients: 301,
    mean_auroc: 0.84,
    mean_auroc_ci95: [0.82, 0.86],
    threshold_method: 'f1',
    best_epoch: { stage: 'finetune', epoch: 3, val_mean_auroc: 0.84 },
    findings: {
      Cardiomegaly: findingValidation({}),
      Effusion: findingValidation({ auroc: 0.88, auroc_ci95: [0.84, 0.92], threshold: 0.42 }),
      Hernia: findingValidation({
        positives: 0,
        negatives: 812,
        auroc: null,
        auroc_ci95: null,
        threshold: 0.5,
        threshold_from: 'default',
        sensitivity: null,
        ppv: null,
        f1: null,
      }),
    },
    ...overrides,
  };
}

export function analyserCardFixture(kind: 'segmentation' | 'screener' | 'ct', overrides: Partial<AnalyserCard> = {}): AnalyserCard {
  const trained = overrides.trained ?? true;
  return {
    kind,
    name: { segmentation: 'unet-cxr-anatomy', screener: 'densenet121-abnormality', ct: 'resnet18-ct-severity' }[kind],
    version: trained ? '1.0.0' : '1.0.0-untrained-seed0',
    trained,
    architecture: { segmentation: 'U-Net', screener: 'DenseNet-121', ct: 'resnet18' }[kind],
    weights_sha256: trained ? 'cd'.repeat(32) : null,
    training_data: trained
      ? { segmentation: 'JSRT/SCR masks', screener: 'NIH ChestX-ray14 No Finding vs any finding', ct: 'MosMedData' }[kind]
      : null,
    ...overrides,
  };
}

/** The screener's answer on a study page: done, above its threshold, from trained weights. */
export function screenerFixture(overrides: Partial<Screener> = {}): Screener {
  const trained = overrides.trained ?? true;
  return {
    status: 'done',
    message: '',
    probability: 0.83,
    threshold: 0.4,
    likely_abnormal: true,
    trained,
    analyser: analyserCardFixture('screener', { trained }),
    ...overrides,
  };
}

/** A finished, trained segmentation with a PA cardiothoracic ratio of 0.56 (above the range). */
export function segmentationFixture(overrides: Partial<Segmentation> = {}): Segmentation {
  return {
    status: 'done',
    message: '',
    analyser: analyserCardFixture('segmentation'),
    structures: ['left_lung', 'right_lung', 'heart'],
    outlines: '/api/studies/7/segmentation/',
    cardiothoracic_ratio: {
      ratio: 0.56,
      heart_line: [
        [380, 620],
        [660, 620],
      ],
      thorax_line: [
        [262, 700],
        [762, 700],
      ],
      normal_upper_limit: 0.5,
      above_range: true,
      view: 'PA',
      caveat: null,
    },
    cardiothoracic_ratio_note: null,
    ...overrides,
  };
}

/** The outlines GET /api/studies/7/segmentation/ answers for segmentationFixture(). */
export function segmentationOutlinesFixture(): SegmentationOutlines {
  return {
    width: 1024,
    height: 1024,
    trained: true,
    structures: [
      { name: 'left_lung', outlines: [[[540, 200], [780, 260], [760, 760], [560, 700]]] },
      { name: 'right_lung', outlines: [[[260, 260], [480, 200], [470, 700], [270, 760]]] },
      { name: 'heart', outlines: [[[380, 520], [660, 520], [640, 760], [400, 760]]] },
    ],
  };
}

/** A CT study's result: done, 4 slices pooled by their mean (0.65) above the 0.5 threshold, trained. */
export function ctFixture(overrides: Partial<CTResult> = {}): CTResult {
  const trained = overrides.analyser?.trained ?? true;
  return {
    status: 'done',
    message: '',
    analyser: analyserCardFixture('ct', { trained }),
    patient_probability: 0.65,
    threshold: 0.5,
    positive: true,
    aggregation: 'mean',
    slice_probabilities: [0.5, 0.6, 0.7, 0.8],
    strip: '/api/studies/7/ct-strip/',
    ...overrides,
  };
}
