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
  acceptance_run: 'Ran a site acceptance',
  profile_install: 'Installed a threshold profile',
  profile_activate: 'Activated a threshold profile',
  shadow_start: 'Started a shadow model',
  shadow_stop: 'Stopped a shadow model',
  model_promote: 'Promoted a model',
  model_rollback: 'Rolled back a model',
  model_install: 'Installed model weights',
  studies_reanalyse: 'Re-analysed studies',
  report_sign_off: 'Signed off a report',
  report_amend: 'Amended a signed report',
};

export const AUDIT_ACTIONS = Object.keys(AUDIT_ACTION_TEXT) as AuditAction[];
