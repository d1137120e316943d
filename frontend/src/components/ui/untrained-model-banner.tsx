export const UNTRAINED_MODEL_TEXT = 'Untrained model — not for clinical use';

/** Shown wherever an untrained model's output could be mistaken for a real result. */
export function UntrainedModelBanner() {
  return (
    <div className="banner banner-danger" role="status">
      {UNTRAINED_MODEL_TEXT}
    </div>
  );
}

type UntrainedAnalyserWarningProps = {
  /** The analyser, as a reader names it: "screener", "segmentation model". */
  analyser: string;
  /** What its untrained output means for the reader. */
  consequence: string;
};

/**
 * One analyser's own warning, beside its result: each analyser beside the classifier has its own
 * weights, so a trained classifier says nothing about an untrained screener, and the other way round.
 */
export function UntrainedAnalyserWarning({ analyser, consequence }: UntrainedAnalyserWarningProps) {
  return (
    <p className="error analyser-warning" role="note">
      <strong>Untrained {analyser} — not for clinical use.</strong> {consequence}
    </p>
  );
}
