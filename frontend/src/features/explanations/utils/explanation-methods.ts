import type { ExplanationMethod, ExplanationStatus } from '@/types/api';

export const DEFAULT_METHOD: ExplanationMethod = 'gradcam';

/** In the server's order (ml.classifier.explanations.explanation.METHODS), with the names a reader knows them by. */
export const METHOD_NAMES: Record<ExplanationMethod, string> = {
  gradcam: 'Grad-CAM',
  saliency: 'Gradient saliency',
  smoothgrad: 'SmoothGrad',
  occlusion: 'Occlusion sensitivity',
  integrated_gradients: 'Integrated gradients',
};

export const METHODS = Object.keys(METHOD_NAMES) as ExplanationMethod[];

export function isComputing(status: ExplanationStatus): boolean {
  return status === 'queued' || status === 'running';
}
