import type { ScreenerSummary } from '@/types/api';
import { formatPercent } from '@/utils/format';

/** The worklist's screener cell: a flag and the probability, or where the screener is. */
export function ScreenerFlag({ screener }: { screener: ScreenerSummary | null }) {
  if (!screener) return <span className="muted">—</span>;
  if (screener.status === 'failed') return <span className="error-text">Failed</span>;
  if (screener.status !== 'done') return <span className="muted">Pending</span>;
  if (screener.probability === null) return <span className="muted">—</span>;
  return (
    <span className="screener-flag">
      {screener.likely_abnormal ? (
        <span className="tag tag-positive">Likely abnormal</span>
      ) : (
        <span className="muted">Below threshold</span>
      )}{' '}
      {formatPercent(screener.probability)}
      {screener.trained === false && (
        <span className="tag tag-untrained" title="The screener's weights are untrained: its probability means nothing.">
          untrained
        </span>
      )}
    </span>
  );
}

/** What the worklist's screener column means, beside the table. */
export function ScreenerLegend() {
  return (
    <p className="muted score-legend">
      <strong>Screener</strong>: the probability of any abnormality; "Likely abnormal" at or above the screener's
      threshold.
      "Below threshold" does not mean normal: the screener ranks and flags, it never clears a study.
    </p>
  );
}
