import type { AnalyserStatus, StudyStatus } from '@/types/api';

export function isInProgress(status: StudyStatus | AnalyserStatus): boolean {
  return status === 'queued' || status === 'running';
}

type StudyWork = {
  status: StudyStatus;
  screener?: { status: AnalyserStatus } | null;
  segmentation?: { status: AnalyserStatus } | null;
};

/**
 * Whether anything about a study may still change: its own analysis, or an analyser beside the
 * classifier (screener, segmentation), which runs after the study is done and finishes on its own.
 */
export function hasWorkInProgress(study: StudyWork): boolean {
  return [study.status, study.screener?.status, study.segmentation?.status].some(
    (status) => status !== undefined && isInProgress(status),
  );
}

export const STATUS_TEXT: Record<StudyStatus, string> = {
  queued: 'Queued',
  running: 'Running',
  done: 'Done',
  failed: 'Failed',
};
