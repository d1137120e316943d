import { useStudyPacs } from '@/features/pacs/api/get-study-pacs';
import type { StudyPacs } from '@/types/api';

const PROTOCOL_TEXT = { dimse: 'DICOM', 'stow-rs': 'DICOMweb' } as const;

function filingText(filing: NonNullable<StudyPacs['filing']>): string {
  if (filing.status === 'sent') return 'Results sent to PACS';
  if (filing.status === 'not_sent') return `Results not sent to PACS: ${filing.message}`;
  if (filing.status === 'sending') return `Sending results to PACS… ${filing.message}`;
  if (filing.status === 'retrying') return `The PACS could not be reached; waiting to retry. ${filing.message}`;
  return 'Results go to PACS once the analysis is done';
}

/** For a study a PACS sent: where it came from and whether its results went back. Nothing for an upload. */
export function PacsStatus({ studyId }: { studyId: string }) {
  const { data } = useStudyPacs(studyId);
  if (!data?.received) return null;
  const protocol = data.protocol ? PROTOCOL_TEXT[data.protocol] : 'DICOM';
  const sender = data.calling_ae_title ? ` from ${data.calling_ae_title}` : '';
  return (
    <p className="card pacs-status" role="status" aria-label="PACS">
      <span className="pacs-badge">Received from PACS</span> ({protocol}
      {sender}). {data.filing && filingText(data.filing)}
    </p>
  );
}
