import { ErrorMessage } from '@/components/ui/error-message';
import { Loading } from '@/components/ui/loading';
import type { Explanation } from '@/types/api';

type FaithfulnessScoresProps = {
  methodName: string;
  explanation: Explanation | undefined;
  error: unknown;
};

const formatAuc = (value: number | null) => (value === null ? '–' : value.toFixed(3));

/** How far to believe a map: its deletion and insertion areas, said in plain words. */
export function FaithfulnessScores({ methodName, explanation, error }: FaithfulnessScoresProps) {
  if (error) return <ErrorMessage error={error} />;
  if (!explanation || explanation.status === 'not_requested') return <Loading label={`Asking for ${methodName}…`} />;
  if (explanation.status === 'queued') return <Loading label={`${methodName}: waiting for a worker…`} />;
  if (explanation.status === 'running') {
    return <Loading label={`Computing ${methodName} and its faithfulness (up to a minute)…`} />;
  }
  if (explanation.status === 'failed') {
    return (
      <p className="error" role="alert">
        {methodName} failed: {explanation.message || 'no reason given.'}
      </p>
    );
  }
  return (
    <dl className="faithfulness-scores" aria-label={`Faithfulness of ${methodName}`}>
      <div>
        <dt>Deletion AUC</dt>
        <dd>
          <strong>{formatAuc(explanation.deletion_auc)}</strong>{' '}
          <span className="muted">lower is better: the finding's probability drops fast as the map's hottest pixels are blurred away.</span>
        </dd>
      </div>
      <div>
        <dt>Insertion AUC</dt>
        <dd>
          <strong>{formatAuc(explanation.insertion_auc)}</strong>{' '}
          <span className="muted">higher is better: it comes back fast as those pixels are restored first.</span>
        </dd>
      </div>
    </dl>
  );
}
