import { useState } from 'react';
import { Link, useParams } from 'react-router';

import { UntrainedModelBanner } from '@/components/ui/untrained-model-banner';
import { paths } from '@/config/paths';
import { useFeedback } from '@/features/feedback/api/get-feedback';
import { FeedbackBadge } from '@/features/feedback/components/feedback-badge';
import { FindingFeedbackForm } from '@/features/feedback/components/finding-feedback-form';
import { useActiveModelTrained } from '@/features/health/api/get-health';
import { PacsStatus } from '@/features/pacs/components/pacs-status';
import { ClinicianReportPanel } from '@/features/reports/components/clinician-report';
import { ReportDownload } from '@/features/reports/components/report-download';
import { useStudy } from '@/features/studies/api/get-study';
import { useDocumentTitle } from '@/hooks/use-document-title';

import { StudyDetails } from './study-details';

export function StudyRoute() {
  const { studyId = '' } = useParams();
  const study = useStudy(studyId);
  useDocumentTitle(study.data ? `Study ${study.data.original_filename}` : 'Study');
  const [selectedLabel, setSelectedLabel] = useState<string | null>(null);
  const activeModelTrained = useActiveModelTrained();
  const done = study.data?.status === 'done';
  const feedback = useFeedback(studyId, { enabled: done });
  const feedbackFor = (label: string) => feedback.data?.find((item) => item.label === label);
  // The layout already warns when the active model is untrained; warn here when only the
  // model that produced this (older) result was untrained, so the banner never shows twice.
  const studyModelUntrained = study.data?.model?.trained === false && activeModelTrained !== false;

  return (
    <div className="study-page">
      <nav aria-label="Breadcrumb">
        <Link to={paths.studies}>← All studies</Link>
      </nav>
      {studyModelUntrained && <UntrainedModelBanner />}
      <PacsStatus studyId={studyId} />
      <StudyDetails
        studyId={studyId}
        selectedLabel={selectedLabel}
        onSelect={setSelectedLabel}
        renderFindingExtra={(finding) => <FeedbackBadge feedback={feedbackFor(finding.label)} />}
        renderPanels={(data, selected) =>
          data.status === 'done' && (
            <>
              {selected ? (
                feedback.isSuccess && (
                  <FindingFeedbackForm
                    key={selected.label}
                    studyId={data.id}
                    finding={selected}
                    current={feedbackFor(selected.label)}
                  />
                )
              ) : (
                <p className="card muted">Select a finding to agree or disagree with it and to see its heatmap (switched on beside the image).</p>
              )}
              <ClinicianReportPanel studyId={data.id} selectedLabel={selectedLabel} onSelectFinding={setSelectedLabel} />
              <ReportDownload study={data} />
            </>
          )
        }
      />
    </div>
  );
}
