import type { ReportSentence } from '@/types/api';

type ReportSourcesProps = {
  sentences: readonly ReportSentence[];
  selectedLabel: string | null;
  onSelectFinding: (label: string) => void;
};

const ANALYSER_NAMES: Record<string, string> = { screener: 'the screener', segmentation: 'the segmentation' };

function sourceName(sentence: ReportSentence): string {
  if (sentence.source.kind === 'analyser') return ANALYSER_NAMES[sentence.source.key] ?? sentence.source.key;
  return sentence.source.key ? `the finding ${sentence.source.key.replace(/_/g, ' ')}` : 'the classifier';
}

/**
 * The draft's sentences as written from the results, each naming what it came from: a finding's
 * sentence selects the finding (its heatmap on the image), the selected finding's sentence is
 * highlighted, and a sentence the edited text no longer holds is struck through.
 */
export function ReportSources({ sentences, selectedLabel, onSelectFinding }: ReportSourcesProps) {
  if (sentences.length === 0) return null;
  return (
    <div className="report-sources">
      <h3>Written from the results</h3>
      <ul>
        {sentences.map((sentence) => {
          const finding = sentence.source.kind === 'finding' && sentence.source.key ? sentence.source.key : null;
          const highlighted = finding !== null && finding === selectedLabel;
          const className = `report-source${highlighted ? ' report-source-selected' : ''}${sentence.kept ? '' : ' report-source-dropped'}`;
          const note = sentence.kept ? '' : ' (no longer in the text)';
          return (
            <li key={`${sentence.source.kind}:${sentence.source.key}:${sentence.text}`} className={className}>
              {finding !== null ? (
                <button
                  type="button"
                  className="link-button"
                  aria-pressed={highlighted}
                  title={`From ${sourceName(sentence)}: select it`}
                  onClick={() => onSelectFinding(finding)}
                >
                  {sentence.text}
                </button>
              ) : (
                <span title={`From ${sourceName(sentence)}`}>{sentence.text}</span>
              )}
              <span className="muted small">
                {' '}
                — from {sourceName(sentence)}
                {note}
              </span>
            </li>
          );
        })}
      </ul>
    </div>
  );
}
