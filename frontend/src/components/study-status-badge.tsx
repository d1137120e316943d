import type { StudyStatus } from '@/types/api';
import { STATUS_TEXT } from '@/utils/study-status';

export function StudyStatusBadge({ status }: { status: StudyStatus }) {
  return <span className={`status-badge status-${status}`}>{STATUS_TEXT[status]}</span>;
}
