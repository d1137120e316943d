import { Link, useParams } from 'react-router';

import { UntrainedModelBanner } from '@/components/ui/untrained-model-banner';
import { paths } from '@/config/paths';
import { useActiveModelTrained } from '@/features/health/api/get-health';
import { useStudy } from '@/features/studies/api/get-study';
import { StudyDetails } from '@/features/studies/components/study-details';

export function StudyRoute() {
  const { studyId = '' } = useParams();
  const study = useStudy(studyId);
  const activeModelTrained = useActiveModelTrained();
  // The layout already warns when the active model is untrained; warn here when only the
  // model that produced this (older) result was untrained, so the banner never shows twice.
  const studyModelUntrained = study.data?.model?.trained === false && activeModelTrained !== false;

  return (
    <div className="study-page">
      <nav aria-label="Breadcrumb">
        <Link to={paths.studies}>← All studies</Link>
      </nav>
      {studyModelUntrained && <UntrainedModelBanner />}
      <StudyDetails studyId={studyId} />
    </div>
  );
}
