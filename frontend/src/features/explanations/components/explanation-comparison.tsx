import { useObjectUrl } from '@/hooks/use-object-url';
import { useStudyFile } from '@/hooks/use-study-file';
import type { ExplanationMethod, Finding } from '@/types/api';
import { displayLabel } from '@/utils/format';

import { useExplanation } from '../api/explanations';
import { METHOD_NAMES } from '../utils/explanation-methods';
import { FaithfulnessScores } from './faithfulness-scores';

type ExplanationComparisonProps = {
  studyId: string;
  imagePath: string;
  finding: Finding;
  methods: readonly [ExplanationMethod, ExplanationMethod];
};

function ExplanationFigure({
  studyId,
  imagePath,
  finding,
  method,
}: {
  studyId: string;
  imagePath: string;
  finding: Finding;
  method: ExplanationMethod;
}) {
  const explanation = useExplanation(studyId, finding.label, method, true);
  const image = useObjectUrl(useStudyFile(imagePath).data);
  const overlay = useObjectUrl(useStudyFile(explanation.data?.image ?? undefined).data);
  const methodName = METHOD_NAMES[method];
  const findingName = displayLabel(finding.label);

  return (
    <figure className="explanation-figure">
      <div className="radiograph-frame">
        {image && <img className="radiograph" src={image} alt={`Radiograph for ${methodName}`} />}
        {overlay && <img className="heatmap-overlay" src={overlay} alt={`${methodName} map for ${findingName}`} />}
      </div>
      <figcaption>
        <strong>{methodName}</strong>
        <FaithfulnessScores methodName={methodName} explanation={explanation.data} error={explanation.error} />
      </figcaption>
    </figure>
  );
}

/** Two methods' maps of one finding on the radiograph, each with its faithfulness scores. */
export function ExplanationComparison({ studyId, imagePath, finding, methods }: ExplanationComparisonProps) {
  return (
    <section className="explanation-comparison" aria-label={`Side-by-side explanations of ${displayLabel(finding.label)}`}>
      {methods.map((method) => (
        <ExplanationFigure key={method} studyId={studyId} imagePath={imagePath} finding={finding} method={method} />
      ))}
    </section>
  );
}
