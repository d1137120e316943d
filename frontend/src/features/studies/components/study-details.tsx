import { type ReactNode, useState } from 'react';

import { ErrorMessage } from '@/components/ui/error-message';
import { Loading } from '@/components/ui/loading';
import type { Finding, Study } from '@/types/api';
import { displayLabel, formatDateTime } from '@/utils/format';

import { useExplanation } from '../api/explanations';
import { usePrefetchStudyFiles } from '../api/get-study-file';
import { useStudy } from '../api/get-study';
import { useAnatomyLayers } from '../hooks/use-anatomy-layers';
import { DEFAULT_METHOD, METHOD_NAMES } from '../utils/explanation-methods';
import { isInProgress } from '../utils/study-status';
import { AnatomyOverlay } from './anatomy-overlay';
import { CTPanel, CTSliceStrip } from './ct-panel';
import { ExplanationComparison } from './explanation-comparison';
import { DEFAULT_CHOICE, type ExplanationChoice, ExplanationControls } from './explanation-controls';
import { FindingList } from './finding-list';
import { ImageMetadata } from './image-metadata';
import { ScreeningNotice } from './screening-notice';
import { ModelSummary } from './model-summary';
import { RadiographViewer } from './radiograph-viewer';
import { ScreenerPanel } from './screener-panel';
import { SegmentationPanel } from './segmentation-panel';
import { StudyStatusBadge } from './study-status-badge';

type StudyDetailsProps = {
  studyId: string;
  selectedLabel: string | null;
  onSelect: (label: string | null) => void;
  /** Slots the route fills from other features: per-finding extras and panels beside the findings. */
  renderFindingExtra?: (finding: Finding) => ReactNode;
  renderPanels?: (study: Study, selected: Finding | null) => ReactNode;
};

export function StudyDetails({ studyId, selectedLabel, onSelect, renderFindingExtra, renderPanels }: StudyDetailsProps) {
  const study = useStudy(studyId);
  const [choice, setChoice] = useState<ExplanationChoice>(DEFAULT_CHOICE);
  const shownLabel = study.data?.findings.some((finding) => finding.label === selectedLabel) ? selectedLabel : null;
  // Grad-CAM's map comes with the study; another method's is the explanation's, once computed.
  const explanation = useExplanation(
    studyId,
    shownLabel ?? '',
    choice.method,
    shownLabel !== null && choice.method !== DEFAULT_METHOD,
  );
  const anatomy = useAnatomyLayers();
  usePrefetchStudyFiles(
    study.data?.status === 'done' ? study.data.findings.map((finding) => finding.heatmap) : [],
  );

  if (study.isPending) return <Loading label="Loading study…" />;
  if (study.isError) return <ErrorMessage error={study.error} />;

  const data = study.data;
  const done = data.status === 'done';
  const selected = data.findings.find((finding) => finding.label === selectedLabel) ?? null;

  return (
    <article className="study">
      <header className="study-header">
        <h1>{data.original_filename}</h1>
        <p>
          Status: <StudyStatusBadge status={data.status} />
          <span className="muted">
            {' '}
            · uploaded {formatDateTime(data.created_at)}
            {data.finished_at && ` · finished ${formatDateTime(data.finished_at)}`}
            {data.width && data.height && ` · ${data.width}×${data.height} px`}
          </span>
        </p>
        {data.cached && <p className="note">From cache: this image was analysed before; the stored result is shown.</p>}
        {data.status === 'failed' && (
          <p className="error" role="alert">
            Analysis failed: {data.message || 'no reason given.'}
          </p>
        )}
        {isInProgress(data.status) && (
          <Loading label={data.status === 'queued' ? 'Waiting for a worker…' : 'Analysing…'} />
        )}
      </header>
      <div className="study-body">
        <div className="study-main">
          <RadiographViewer
            imagePath={data.image}
            fileName={data.original_filename}
            heatmap={
              selected
                ? {
                    path: choice.method === DEFAULT_METHOD ? selected.heatmap : (explanation.data?.image ?? null),
                    name: displayLabel(selected.label),
                    method: METHOD_NAMES[choice.method],
                  }
                : null
            }
            caption={data.kind === 'ct' ? 'the middle slice of the series, in the lung window.' : undefined}
            overlay={
              data.segmentation && (
                <AnatomyOverlay segmentation={data.segmentation} width={data.width} height={data.height} layers={anatomy} />
              )
            }
          />
          <CTSliceStrip ct={data.ct} />
          {done && selected && choice.compareWith !== null && (
            <ExplanationComparison
              studyId={studyId}
              imagePath={data.image}
              finding={selected}
              methods={[choice.method, choice.compareWith]}
            />
          )}
        </div>
        <div className="study-side">
          {done && data.kind !== 'ct' && (
            <>
              <p className="note study-notice">
                These probabilities are decision support, not a diagnosis: read them with the images and the patient.
              </p>
              <FindingList
                findings={data.findings}
                selectedLabel={selectedLabel}
                onSelect={onSelect}
                renderExtra={renderFindingExtra}
              />
            </>
          )}
          {done && selected && (
            <ExplanationControls studyId={studyId} finding={selected} choice={choice} onChange={setChoice} />
          )}
          {/* The route's panels (feedback on findings, the PDF report) are the radiograph's: a CT study has neither. */}
          {data.kind !== 'ct' && renderPanels?.(data, selected)}
          <CTPanel ct={data.ct} />
          <ScreenerPanel screener={data.screener} />
          <SegmentationPanel segmentation={data.segmentation} layers={anatomy} />
          <ScreeningNotice screening={data.screening} />
          <ModelSummary model={data.model} labels={data.findings.map((finding) => finding.label)} />
          <ImageMetadata metadata={data.metadata} />
        </div>
      </div>
    </article>
  );
}
