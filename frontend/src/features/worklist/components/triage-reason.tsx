import type { StudySummary } from '@/types/api';
import { formatDateTime } from '@/utils/format';

/** The worklist's "Why here" cell: why the triage order puts the study where it is. */
export function TriageReason({ study }: { study: StudySummary }) {
  if (study.triage_reason === 'waited_past_limit') {
    return (
      <span>
        <span className="tag tag-waiting">Waited past the limit</span>{' '}
        <span className="muted">since {formatDateTime(study.triage_lifted_since)}</span>
      </span>
    );
  }
  if (study.triage_reason === 'score') return <span className="muted">By its score</span>;
  return <span className="muted">Not scored yet</span>;
}

/** What the "Why here" column means, beside the table. */
export function TriageLegend() {
  return (
    <p className="muted score-legend">
      <strong>Why here</strong>: triage orders by score, but a study left unread past the wait limit comes first,
      longest wait first, whatever its score, so that none waits behind a stream of high-score studies.
    </p>
  );
}
