import { type ReactNode, useId } from 'react';

import { CalibratedScoreLegend } from '@/components/calibrated-score-legend';
import type { Finding } from '@/types/api';

import { sortFindings } from '../utils/sort-findings';
import { FindingButton } from './finding-button';

type FindingListProps = {
  findings: Finding[];
  selectedLabel: string | null;
  onSelect: (label: string | null) => void;
  /** Shown beside a finding's button, e.g. the user's feedback on it. */
  renderExtra?: (finding: Finding) => ReactNode;
  /** A study of several images lists its own findings and the selected image's, each named. */
  heading?: string;
  /** How to read the bars and scores; a second list on the page leaves it to the first. */
  explained?: boolean;
};

export function FindingList({
  findings,
  selectedLabel,
  onSelect,
  renderExtra,
  heading = 'Findings',
  explained = true,
}: FindingListProps) {
  const headingId = useId();
  const positiveHintId = useId();
  if (findings.length === 0) return <p className="muted">The model returned no findings.</p>;
  const positives = findings.filter((finding) => finding.positive).length;
  return (
    <section className="findings" aria-labelledby={headingId}>
      <h2 id={headingId}>{heading}</h2>
      <p className="muted">
        {positives === 0 ? 'No finding above its threshold.' : `${positives} above threshold, listed first.`}
        {explained &&
          " Findings are in order of score. Bars show the probability; the dark mark is the finding's threshold. " +
            'Select a finding to see where the model looked.'}
      </p>
      {explained && <CalibratedScoreLegend />}
      <span id={positiveHintId} hidden>
        Above threshold
      </span>
      <ul className="finding-list">
        {sortFindings(findings).map((finding) => (
          <li key={finding.label}>
            <FindingButton
              finding={finding}
              selected={finding.label === selectedLabel}
              onToggle={() => onSelect(finding.label === selectedLabel ? null : finding.label)}
              positiveHintId={positiveHintId}
            />
            {renderExtra?.(finding)}
          </li>
        ))}
      </ul>
    </section>
  );
}
