import type { AuditAction } from '@/types/api';

export const AUDIT_ACTION_TEXT: Record<AuditAction, string> = {
  sign_in: 'Signed in',
  sign_in_failed: 'Failed sign-in',
  study_upload: 'Uploaded a study',
  study_view: 'Viewed a study',
  image_download: 'Downloaded a radiograph',
  heatmap_download: 'Downloaded a heatmap',
  report_download: 'Downloaded a report',
  feedback: 'Gave feedback',
  user_create: 'Created a user',
  user_update: 'Changed a user',
  password_reset: 'Reset a password',
  dicom_sender_refused: 'Refused a DICOM sender',
};

export const AUDIT_ACTIONS = Object.keys(AUDIT_ACTION_TEXT) as AuditAction[];
