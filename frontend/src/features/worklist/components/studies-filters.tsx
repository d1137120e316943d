import { Field } from '@/components/ui/field';
import { STUDY_STATUSES, type StudyOrdering, type StudyStatus } from '@/types/api';
import { displayLabel } from '@/utils/format';
import { STATUS_TEXT } from '@/utils/study-status';

export type WorklistFilter = {
  status?: StudyStatus;
  positive?: string;
  createdAfter?: string;
  createdBefore?: string;
  ordering: StudyOrdering;
};

export const ORDERING_TEXT: Record<StudyOrdering, string> = {
  '-created_at': 'Newest first',
  created_at: 'Oldest first',
  '-top_score': 'Most suspicious first (triage)',
  '-top_probability': 'Highest raw probability first',
  '-screener_probability': 'Most likely abnormal first (screener)',
};

type StudiesFiltersProps = {
  value: WorklistFilter;
  /** Finding labels of the active model, for the positive-finding filter. */
  labels: readonly string[];
  onChange: (filter: WorklistFilter) => void;
};

export function StudiesFilters({ value, labels, onChange }: StudiesFiltersProps) {
  const set = (patch: Partial<WorklistFilter>) => onChange({ ...value, ...patch });
  return (
    <div className="filters" role="group" aria-label="Filter and sort studies">
      <Field label="Sort by">
        <select value={value.ordering} onChange={(event) => set({ ordering: event.target.value as StudyOrdering })}>
          {Object.entries(ORDERING_TEXT).map(([ordering, text]) => (
            <option key={ordering} value={ordering}>
              {text}
            </option>
          ))}
        </select>
      </Field>
      <Field label="Status">
        <select
          value={value.status ?? ''}
          onChange={(event) => set({ status: (event.target.value || undefined) as StudyStatus | undefined })}
        >
          <option value="">All statuses</option>
          {STUDY_STATUSES.map((status) => (
            <option key={status} value={status}>
              {STATUS_TEXT[status]}
            </option>
          ))}
        </select>
      </Field>
      <Field label="Positive finding">
        <select value={value.positive ?? ''} onChange={(event) => set({ positive: event.target.value || undefined })}>
          <option value="">Any or none</option>
          <option value="any">Any positive finding</option>
          {labels.map((label) => (
            <option key={label} value={label}>
              {displayLabel(label)}
            </option>
          ))}
        </select>
      </Field>
      <Field label="Uploaded from">
        <input
          type="date"
          value={value.createdAfter ?? ''}
          max={value.createdBefore}
          onChange={(event) => set({ createdAfter: event.target.value || undefined })}
        />
      </Field>
      <Field label="Uploaded to">
        <input
          type="date"
          value={value.createdBefore ?? ''}
          min={value.createdAfter}
          onChange={(event) => set({ createdBefore: event.target.value || undefined })}
        />
      </Field>
    </div>
  );
}
