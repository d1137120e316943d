import { AnalyserCardFacts } from '@/components/analyser-card-facts';
import { Loading } from '@/components/ui/loading';
import type { AnalyserCard, AnalyserStatus } from '@/types/api';

type AnalyserRunStatusProps = {
  status: AnalyserStatus;
  message: string;
  /** The analyser, as a reader names it: "screener", "segmentation". */
  analyser: string;
};

/** What an analyser's panel says until its result is there: waiting, working, or why it failed. */
export function AnalyserRunStatus({ status, message, analyser }: AnalyserRunStatusProps) {
  if (status === 'queued') return <Loading label={`Waiting for the ${analyser}…`} />;
  if (status === 'running') return <Loading label={`The ${analyser} is running…`} />;
  if (status === 'failed') {
    return (
      <p className="error" role="alert">
        The {analyser} failed: {message || 'no reason given.'} The findings are not affected.
      </p>
    );
  }
  return null;
}

/** The card of the analyser that made a result, its name and version always in view. */
export function AnalyserModel({ card }: { card: AnalyserCard | null }) {
  if (!card) return null;
  return (
    <details className="analyser-model">
      <summary>
        Model: {card.name} {card.version}
      </summary>
      <AnalyserCardFacts card={card} />
    </details>
  );
}
