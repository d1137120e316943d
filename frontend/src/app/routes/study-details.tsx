import { type ReactNode, useState } from 'react';

import { OverlaySwitches } from '@/components/overlay-switches';
import { StudyStatusBadge } from '@/components/study-status-badge';
import { ErrorMessage } from '@/components/ui/error-message';
import { Loading } from '@/components/ui/loading';
import { AnatomyOverlay } from '@/features/anatomy/components/anatomy-overlay';
import { SegmentationPanel } from '@/features/anatomy/components/segmentation-panel';
import { useAnatomyLayers } from '@/features/anatomy/hooks/use-anatomy-layers';
import { CTPanel, CTSliceStrip } from '@/features/ct/components/ct-panel';
import { CTSliceScroller, ctSlicePath } from '@/features/ct/components/ct-slice-scroller';
import { useExplanation } from '@/features/explanations/api/explanations';
import { ExplanationComparison } from '@/features/explanations/components/explanation-comparison';
import { DEFAULT_CHOICE, type ExplanationChoice, ExplanationControls } from '@/features/explanations/components/explanation-controls';
import { DEFAULT_METHOD, METHOD_NAMES } from '@/features/explanations/utils/explanation-methods';
import { useStudy } from '@/features/studies/api/get-study';
import { FindingList } from '@/features/studies/components/finding-list';
import { ImageMetadata } from '@/features/studies/components/image-metadata';
import { ModelSummary } from '@/features/studies/components/model-summary';
import { PriorComparison } from '@/features/studies/components/prior-comparison';
import { ScreenerPanel } from '@/features/studies/components/screener-panel';
import { ScreeningNotice } from '@/features/studies/components/screening-notice';
import { describeAggregation } from '@/features/studies/utils/aggregation';
import { ImageStrip, NOT_ANALYSED_NOTE } from '@/features/viewer/components/image-strip';
import { RadiographViewer } from '@/features/viewer/components/radiograph-viewer';
import { useOverlayPreference } from '@/hooks/use-overlay-preference';
import type { Finding, Study } from '@/types/api';
import { displayLabel, formatDateTime } from '@/utils/format';
import { isInProgress } from '@/utils/study-status';

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
  const [chosenPosition, setChosenPosition] = useState<number | null>(null);
  const [choice, setChoice] = useState<ExplanationChoice>(DEFAULT_CHOICE);
  // The patient's prior study, read side by side in the same view once the reader asks (for this
  // study only: following the link to the prior opens it on its own).
  const [comparedFor, setComparedFor] = useState<string | null>(null);
  const comparing = comparedFor === studyId;
  const priorId = study.data?.prior?.id ?? '';
  const prior = useStudy(priorId, { enabled: priorId !== '' });
  // A CT series opens on its middle slice at its own size; scrolling shows each slice as the model saw it.
  const [ctSlice, setCtSlice] = useState<number | null>(null);
  const images = study.data?.images ?? [];
  const severalImages = images.length > 1;
  // The study opens on its key image, as the API names it (its first frontal analysed image).
  const keyPosition = study.data?.key_image ?? 0;
  const shownImage = severalImages
    ? (images.find((image) => image.position === (chosenPosition ?? keyPosition)) ?? null)
    : null;
  // The other explanation methods explain the study's key image only (the study's own image);
  // any other image shows its own Grad-CAM maps.
  const keyImageShown = shownImage === null || shownImage.position === keyPosition;
  const method = keyImageShown ? choice.method : DEFAULT_METHOD;
  // A study of one image shows the study's findings on it; of several, the shown image's own.
  const shownFindings = shownImage ? shownImage.findings : (study.data?.findings ?? []);
  const shownLabel = study.data?.findings.some((finding) => finding.label === selectedLabel) ? selectedLabel : null;
  // Grad-CAM's map comes with the study; another method's is the explanation's, once computed.
  const explanation = useExplanation(
    studyId,
    shownLabel ?? '',
    choice.method,
    shownLabel !== null && method !== DEFAULT_METHOD,
  );
  // Overlays of an untrained analyser are off until the person asks for them (DESIGN.md: never
  // pass as a diagnosis); a heatmap is fetched only once shown, so the server's audit of heatmap
  // downloads records what a person opened.
  const [heatmapShown, setHeatmapShown] = useOverlayPreference('heatmap', study.data?.model?.trained === true);
  const anatomy = useAnatomyLayers(study.data?.segmentation?.analyser?.trained === true);

  if (study.isPending) return <Loading label="Loading study…" />;
  if (study.isError) return <ErrorMessage error={study.error} />;

  const data = study.data;
  const done = data.status === 'done';
  const selected = data.findings.find((finding) => finding.label === selectedLabel) ?? null;
  const heatmapFinding = heatmapShown ? (shownFindings.find((finding) => finding.label === selectedLabel) ?? null) : null;
  // The segmentation outlines the study's key image only.
  const outlinesAvailable = data.segmentation?.status === 'done' && keyImageShown;
  const metadata = shownImage?.metadata ?? data.metadata;
  const imageWidth = shownImage?.width ?? data.width;
  const imageHeight = shownImage?.height ?? data.height;
  const compared = comparing && data.prior && prior.data ? prior.data : null;

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
            {severalImages && ` · ${images.length} images`}
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
      {shownImage && (
        <ImageStrip images={images} selectedPosition={shownImage.position} onSelect={setChosenPosition} />
      )}
      <div className={`study-body${compared ? ' is-comparing' : ''}`}>
        <div className="study-main">
          <RadiographViewer
            // Each image of a study is read on its own: its own view, window and measurements.
            key={shownImage?.position ?? keyPosition}
            imagePath={ctSlice !== null ? ctSlicePath(data.id, ctSlice) : (shownImage?.image ?? data.image)}
            fileName={shownImage?.original_filename ?? data.original_filename}
            imageSize={ctSlice === null && imageWidth && imageHeight ? { width: imageWidth, height: imageHeight } : null}
            pixelSpacingMm={metadata?.pixel_spacing_mm}
            heatmap={
              heatmapFinding
                ? {
                    path: method === DEFAULT_METHOD ? heatmapFinding.heatmap : (explanation.data?.image ?? null),
                    name: displayLabel(heatmapFinding.label),
                    method: METHOD_NAMES[method],
                  }
                : null
            }
            caption={
              data.kind !== 'ct'
                ? undefined
                : ctSlice === null
                  ? 'the middle slice of the series, in the lung window.'
                  : `slice ${ctSlice + 1}, as the CT model saw it (lung window, its input size).`
            }
            compareWith={
              compared && {
                imagePath: compared.image,
                fileName: compared.original_filename,
                imageSize: compared.width && compared.height ? { width: compared.width, height: compared.height } : null,
                label: `Prior study, ${formatDateTime(compared.created_at)}`,
                currentLabel: `This study, ${formatDateTime(data.created_at)}`,
              }
            }
            overlay={
              data.segmentation &&
              outlinesAvailable && (
                <AnatomyOverlay segmentation={data.segmentation} width={data.width} height={data.height} layers={anatomy} />
              )
            }
            overlayControls={
              done &&
              data.kind !== 'ct' && (
                <OverlaySwitches
                  heatmap={{ shown: heatmapShown, onChange: setHeatmapShown, untrained: data.model?.trained === false }}
                  outlines={
                    outlinesAvailable
                      ? {
                          shown: anatomy.overlayShown,
                          onChange: anatomy.setOverlayShown,
                          untrained: data.segmentation?.analyser?.trained === false,
                        }
                      : null
                  }
                />
              )
            }
          />
          <CTSliceScroller ct={data.ct} index={ctSlice} onChange={setCtSlice} />
          <CTSliceStrip ct={data.ct} />
        </div>
        <div className="study-side">
          {/* First beside the image it concerns: what the model was shown differs from what arrived. */}
          <ScreeningNotice screening={shownImage ? shownImage.screening : data.screening} />
          {done && data.kind !== 'ct' && (
            <>
              <p className="note study-notice">
                These probabilities are decision support, not a diagnosis: read them with the images and the patient.
              </p>
              <PriorComparison
                study={data}
                prior={prior.data}
                priorError={prior.error}
                comparing={comparing}
                onComparingChange={(compare) => setComparedFor(compare ? studyId : null)}
              />
              <FindingList
                findings={data.findings}
                selectedLabel={selectedLabel}
                onSelect={onSelect}
                renderExtra={renderFindingExtra}
                heading={
                  severalImages && data.aggregation
                    ? `Study findings: ${describeAggregation(data.aggregation)}`
                    : undefined
                }
              />
              {shownImage &&
                (shownImage.analysed ? (
                  <FindingList
                    findings={shownImage.findings}
                    selectedLabel={selectedLabel}
                    onSelect={onSelect}
                    heading={`Image ${shownImage.position + 1} findings`}
                    explained={false}
                  />
                ) : (
                  <p className="note">
                    Image {shownImage.position + 1} ({shownImage.view}): {NOT_ANALYSED_NOTE}.
                  </p>
                ))}
            </>
          )}
          {done && selected && keyImageShown && (
            <ExplanationControls studyId={studyId} finding={selected} choice={choice} onChange={setChoice} />
          )}
          {done && selected && keyImageShown && choice.compareWith !== null && (
            <ExplanationComparison
              studyId={studyId}
              imagePath={data.image}
              finding={selected}
              methods={[choice.method, choice.compareWith]}
            />
          )}
          {done && !keyImageShown && (
            <p className="muted">
              The screener, the segmentation and the explanation methods other than Grad-CAM read the
              study&apos;s first frontal image (image {keyPosition + 1}).
            </p>
          )}
          {/* The route's panels (feedback on findings, the PDF report) are the radiograph's: a CT study has neither. */}
          {data.kind !== 'ct' && renderPanels?.(data, selected)}
          <CTPanel ct={data.ct} />
          <ScreenerPanel screener={data.screener} />
          <SegmentationPanel segmentation={data.segmentation} layers={anatomy} />
          <ModelSummary
            model={data.model}
            thresholdProfile={data.threshold_profile}
            labels={data.findings.map((finding) => finding.label)}
          />
          <ImageMetadata metadata={metadata} />
        </div>
      </div>
    </article>
  );
}
