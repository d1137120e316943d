import { AnalyserModel, AnalyserRunStatus } from '@/components/analyser-run-status';
import { Loading } from '@/components/ui/loading';
import { UntrainedAnalyserWarning } from '@/components/ui/untrained-model-banner';
import { useObjectUrl } from '@/hooks/use-object-url';
import { useStudyFile } from '@/hooks/use-study-file';
import type { CTResult } from '@/types/api';
import { formatPercent } from '@/utils/format';

const STRIP_WIDTH = 512;
const STRIP_HEIGHT = 48;

/** "mean of 12 slices": how the patient's probability was pooled from the slices', in words. */
export function aggregationText(ct: CTResult): string {
  const count = ct.slice_probabilities.length;
  return `${ct.aggregation ?? 'mean'} of ${count} slice${count === 1 ? '' : 's'}`;
}

function CTResultFacts({ ct }: { ct: CTResult }) {
  return (
    <>
      {ct.analyser?.trained === false && (
        <UntrainedAnalyserWarning
          analyser="CT model"
          consequence="Its probabilities come from seeded untrained weights and mean nothing."
        />
      )}
      <p className="screener-verdict">
        {ct.positive === true && <span className="tag tag-positive">Severe involvement likely</span>}
        {ct.positive === false && <strong>Below the CT model's threshold</strong>}
      </p>
      <dl className="key-values">
        <dt>Probability of severe involvement</dt>
        <dd>{ct.patient_probability === null ? '—' : formatPercent(ct.patient_probability)}</dd>
        <dt>Threshold</dt>
        <dd>{ct.threshold === null ? '—' : formatPercent(ct.threshold)}</dd>
        <dt>Pooled over slices</dt>
        <dd>{aggregationText(ct)}</dd>
      </dl>
    </>
  );
}

/** A CT study's result: the patient's probability against its threshold, with the CT model's card. */
export function CTPanel({ ct }: { ct: CTResult | null }) {
  if (!ct) return null;
  return (
    <section className="card analyser-panel" aria-labelledby="ct-heading">
      <h2 id="ct-heading">CT: severe against mild COVID-19 involvement</h2>
      {ct.status === 'done' ? (
        <CTResultFacts ct={ct} />
      ) : (
        <AnalyserRunStatus status={ct.status} message={ct.message} analyser="CT model" />
      )}
      <AnalyserModel card={ct.analyser} />
    </section>
  );
}

/** Each slice's probability as a strip under the viewer, drawn by the server (first slice left);
 * fetched with the bearer token like the radiograph, and shown through an object URL. */
export function CTSliceStrip({ ct }: { ct: CTResult | null }) {
  const file = useStudyFile(ct?.strip ?? undefined);
  const url = useObjectUrl(file.data);
  if (!ct?.strip) return null;
  return (
    <figure className="ct-strip">
      {url ? (
        <img
          src={url}
          width={STRIP_WIDTH}
          height={STRIP_HEIGHT}
          alt={`Probability of severe involvement for each of ${ct.slice_probabilities.length} slices, first slice left; orange where it reaches the threshold`}
        />
      ) : (
        <Loading label="Loading the per-slice curve…" />
      )}
      <figcaption className="muted small">
        Per-slice probability, first slice left, the grey line at the threshold
        {ct.threshold === null ? '' : ` (${formatPercent(ct.threshold)})`}.
      </figcaption>
    </figure>
  );
}
