/** What a finding's score means, wherever scores are shown beside probabilities. */
export function CalibratedScoreLegend() {
  return (
    <p className="muted score-legend">
      <strong>Score</strong>: the probability rescaled to the finding's operating threshold, so that 50% means at its
      threshold and above 50% above it. Thresholds differ from finding to finding; scores can be compared across
      findings and studies, raw probabilities cannot.
    </p>
  );
}
