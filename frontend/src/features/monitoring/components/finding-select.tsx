import { Field } from '@/components/ui/field';
import { displayLabel } from '@/utils/format';

type FindingSelectProps = { label: string; findings: string[]; value: string; onChange: (finding: string) => void };

/** Which finding the plots show. */
export function FindingSelect({ label, findings, value, onChange }: FindingSelectProps) {
  return (
    <Field label={label}>
      <select value={value} onChange={(event) => onChange(event.target.value)}>
        {findings.map((finding) => (
          <option key={finding} value={finding}>
            {displayLabel(finding)}
          </option>
        ))}
      </select>
    </Field>
  );
}
