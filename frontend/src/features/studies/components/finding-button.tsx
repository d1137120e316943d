import type { Finding } from '@/types/api';
import { displayLabel, formatPercent, formatPercentPair } from '@/utils/format';

type FindingButtonProps = {
  finding: Finding;
  selected: boolean;
  onToggle: () => void;
  /** The id of the element that says "Above threshold" (one per finding list). */
  positiveHintId: string;
};

// The accessible name is "<display name> <probability> (threshold <threshold>), score <score>";
// the "Positive" tag is hidden from it and announced as the description instead.
export function FindingButton({ finding, selected, onToggle, positiveHintId }: FindingButtonProps) {
  const probability = Math.min(Math.max(finding.probability, 0), 1);
  const threshold = Math.min(Math.max(finding.threshold, 0), 1);
  const [shownProbability, shownThreshold] = formatPercentPair(finding.probability, finding.threshold);
  return (
    <button
      type="button"
      className={`finding${finding.positive ? ' finding-positive' : ''}`}
      aria-pressed={selected}
      aria-describedby={finding.positive ? positiveHintId : undefined}
      onClick={onToggle}
    >
      <span className="finding-text">
        <span className="finding-label">{displayLabel(finding.label)}</span>{' '}
        <span className="finding-probability">{shownProbability}</span>{' '}
        <span className="finding-threshold">(threshold {shownThreshold})</span>,{' '}
        <span className="finding-score">score {formatPercent(finding.calibrated_score)}</span>
      </span>
      {finding.positive && (
        <span className="tag tag-positive" aria-hidden="true">
          Positive
        </span>
      )}
      <span className="finding-bar" aria-hidden="true">
        <span className="finding-bar-fill" style={{ width: `${probability * 100}%` }} />
        <span className="finding-bar-threshold" style={{ left: `${threshold * 100}%` }} />
      </span>
    </button>
  );
}
