import type { Health, Study, User } from '@/types/api';

export const clinician: User = { id: 1, username: 'dr.house', role: 'clinician' };

export function healthFixture({ trained }: { trained: boolean }): Health {
  return {
    status: 'ok',
    checks: {
      database: { ok: true },
      cache: { ok: true },
      broker: { ok: true },
      model: { ok: true, name: 'densenet121-cxr', version: '1.0.0', trained, weights_sha256: null },
    },
  };
}

export function studyFixture(overrides: Partial<Study> = {}): Study {
  return {
    id: 7,
    status: 'done',
    created_at: '2025-01-02T10:00:00Z',
    finished_at: '2025-01-02T10:00:05Z',
    original_filename: 'chest.png',
    cached: false,
    message: null,
    image: '/api/studies/7/image/',
    width: 1024,
    height: 1024,
    model: { name: 'densenet121-cxr', version: '1.0.0', weights_sha256: 'ab'.repeat(32), trained: true },
    findings: [
      { label: 'Effusion', probability: 0.48, threshold: 0.6, positive: false, heatmap: '/api/studies/7/heatmaps/Effusion/' },
      { label: 'Pleural_Thickening', probability: 0.42, threshold: 0.3, positive: true, heatmap: '/api/studies/7/heatmaps/Pleural_Thickening/' },
      { label: 'Cardiomegaly', probability: 0.632, threshold: 0.5, positive: true, heatmap: '/api/studies/7/heatmaps/Cardiomegaly/' },
      { label: 'Hernia', probability: 0.012, threshold: 0.2, positive: false, heatmap: '/api/studies/7/heatmaps/Hernia/' },
    ],
    ...overrides,
  };
}
