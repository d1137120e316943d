export const UNTRAINED_MODEL_TEXT = 'Untrained model — not for clinical use';

/** Shown wherever an untrained model's output could be mistaken for a real result. */
export function UntrainedModelBanner() {
  return (
    <div className="banner banner-danger" role="status">
      {UNTRAINED_MODEL_TEXT}
    </div>
  );
}
