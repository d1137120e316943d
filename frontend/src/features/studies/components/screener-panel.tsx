import { AnalyserModel, AnalyserRunStatus } from '@/components/analyser-run-status';
import { UntrainedAnalyserWarning } from '@/components/ui/untrained-model-banner';
import type { Screener } from '@/types/api';
import { formatPercent, formatPercentPair } from '@/utils/format';

/** The screener flags studies for a closer look; it must never be read as clearing one. */
export const SCREENER_NEVER_NORMAL =
  'The screener only ranks and flags studies for a closer look: it never reports a study as normal, and a study below its threshold may still have findings.';

function ScreenerResult({ screener }: { screener: Screener }) {
  const { probability, threshold } = screener;
  const [shownProbability, shownThreshold] =
    probability !== null && threshold !== null
      ? formatPercentPair(probability, threshold)
      : [probability === null ? '—' : formatPercent(probability), threshold === null ? '—' : formatPercent(threshold)];
  return (
    <>
      {screener.trained === false && (
        <UntrainedAnalyserWarning
          analyser="screener"
          consequence="Its probability comes from seeded untrained weights and means nothing."
        />
      )}
      <p className="screener-verdict">
        {screener.likely_abnormal === true && <span className="tag tag-positive">Likely abnormal</span>}
        {screener.likely_abnormal === false && <strong>Below the screener's threshold</strong>}
      </p>
      <dl className="key-values">
        <dt>Probability of any abnormality</dt>
        <dd>{shownProbability}</dd>
        <dt>Threshold</dt>
        <dd>{shownThreshold}</dd>
      </dl>
    </>
  );
}

/** The normal/abnormal screener's answer on a study, with its own card and trained flag. */
export function ScreenerPanel({ screener }: { screener: Screener | null }) {
  if (!screener) return null;
  return (
    <section className="card analyser-panel" aria-labelledby="screener-heading">
      <h2 id="screener-heading">Abnormality screener</h2>
      {screener.status === 'done' ? (
        <ScreenerResult screener={screener} />
      ) : (
        <AnalyserRunStatus status={screener.status} message={screener.message} analyser="screener" />
      )}
      <p className="muted small">{SCREENER_NEVER_NORMAL}</p>
      <AnalyserModel card={screener.analyser} />
    </section>
  );
}
