import { STUDY_STATUSES, type StudyStatus } from '@/types/api';

import { STATUS_TEXT } from '../utils/study-status';

type StudyStatusFilterProps = {
  value: StudyStatus | undefined;
  onChange: (status: StudyStatus | undefined) => void;
};

export function StudyStatusFilter({ value, onChange }: StudyStatusFilterProps) {
  return (
    <label className="inline-field">
      Show
      <select
        value={value ?? ''}
        onChange={(event) => onChange((event.target.value || undefined) as StudyStatus | undefined)}
      >
        <option value="">All statuses</option>
        {STUDY_STATUSES.map((status) => (
          <option key={status} value={status}>
            {STATUS_TEXT[status]}
          </option>
        ))}
      </select>
    </label>
  );
}
