import type { StudyStatus } from '@/types/api';

export function isInProgress(status: StudyStatus): boolean {
  return status === 'queued' || status === 'running';
}

export const STATUS_TEXT: Record<StudyStatus, string> = {
  queued: 'Queued',
  running: 'Running',
  done: 'Done',
  failed: 'Failed',
};
