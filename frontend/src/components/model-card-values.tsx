// Values every model card shows the same way: the classifier's on the model page, and each
// analyser's beside it (analyser-card-facts.tsx).

/** A card's Trained line: "Yes", or a warning that its weights are untrained. */
export function TrainedFlag({ trained }: { trained: boolean }) {
  return trained ? <>Yes</> : <strong className="error-text">No — untrained weights, not for clinical use</strong>;
}

/** A card's weights digest, or that there are no weights files (seeded weights). */
export function WeightsDigest({ sha256 }: { sha256: string | null | undefined }) {
  return sha256 ? <code className="wrap">{sha256}</code> : <>None (seeded weights)</>;
}
