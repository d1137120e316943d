import { AnalyserCardFacts, analyserTitle } from '@/components/analyser-card-facts';
import { ErrorMessage } from '@/components/ui/error-message';
import { Loading } from '@/components/ui/loading';

import { useAnalyserCards } from '../api/get-analysers';

/** One card per analyser beside the classifier: its own weights, version and trained flag. */
export function AnalyserCards() {
  const cards = useAnalyserCards();
  return (
    <section className="card" aria-labelledby="analysers-heading">
      <h2 id="analysers-heading">Analysers beside the classifier</h2>
      <p className="muted">
        Each analyser has its own weights: one trained says nothing of another. An untrained analyser's results are
        shown with their own warning.
      </p>
      {cards.isPending && <Loading label="Loading the analysers…" />}
      {cards.isError && <ErrorMessage error={cards.error} />}
      {cards.data?.length === 0 && <p className="muted">No analysers are installed beside the classifier.</p>}
      {cards.data?.map((card) => (
        <section key={card.kind} className="analyser-card" aria-labelledby={`analyser-${card.kind}-heading`}>
          <h3 id={`analyser-${card.kind}-heading`}>{analyserTitle(card.kind)}</h3>
          <AnalyserCardFacts card={card} />
        </section>
      ))}
    </section>
  );
}
