import type { AnalyserCard } from '@/types/api';
import { displayLabel } from '@/utils/format';

import { TrainedFlag, WeightsDigest } from './model-card-values';

// The card of an analyser beside the classifier (ml.analysers: segmentation, screener), shown with
// its result on a study and on the model page. Each analyser has its own weights and trained flag.

const ANALYSER_TITLES: Record<string, string> = {
  segmentation: 'Anatomy segmentation',
  screener: 'Abnormality screener',
};

/** "Anatomy segmentation" for "segmentation"; an unknown kind in plain words. */
export function analyserTitle(kind: string): string {
  return ANALYSER_TITLES[kind] ?? displayLabel(kind);
}

export function AnalyserCardFacts({ card }: { card: AnalyserCard }) {
  return (
    <dl className="key-values">
      <dt>Name</dt>
      <dd>{card.name}</dd>
      <dt>Version</dt>
      <dd>{card.version}</dd>
      <dt>Trained</dt>
      <dd>
        <TrainedFlag trained={card.trained} />
      </dd>
      <dt>Architecture</dt>
      <dd>{card.architecture || 'Not stated'}</dd>
      <dt>Training data</dt>
      <dd>{card.training_data || 'Not stated'}</dd>
      <dt>Weights SHA-256</dt>
      <dd>
        <WeightsDigest sha256={card.weights_sha256} />
      </dd>
    </dl>
  );
}
