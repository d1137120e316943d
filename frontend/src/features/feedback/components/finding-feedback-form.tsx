import { type FormEvent, useId, useState } from 'react';

import { ErrorMessage } from '@/components/ui/error-message';
import type { Finding, FindingFeedback, Verdict } from '@/types/api';
import { displayLabel, formatDateTime, formatPercentPair } from '@/utils/format';

import { useSaveFeedback } from '../api/save-feedback';
import { VERDICT_TEXT, VERDICTS } from './verdict-text';

export const NOTE_MAX_LENGTH = 2000;

type FindingFeedbackFormProps = {
  studyId: string;
  finding: Finding;
  current: FindingFeedback | undefined;
};

/** Agree, disagree or unsure about one finding, with an optional note; saved per user. */
export function FindingFeedbackForm({ studyId, finding, current }: FindingFeedbackFormProps) {
  // Keyed by finding in the parent, so the draft starts from the saved answer of each finding.
  const [verdict, setVerdict] = useState<Verdict | undefined>(current?.verdict);
  const [note, setNote] = useState(current?.note ?? '');
  const save = useSaveFeedback(studyId);
  const noteId = useId();
  const name = displayLabel(finding.label);
  const [probability, threshold] = formatPercentPair(finding.probability, finding.threshold);

  const handleSubmit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    if (verdict) save.mutate({ label: finding.label, verdict, note });
  };

  const unchanged = current !== undefined && current.verdict === verdict && current.note === note.trim();

  return (
    <form className="card feedback-form" onSubmit={handleSubmit} aria-labelledby={`${noteId}-heading`}>
      <h2 id={`${noteId}-heading`}>Your assessment: {name}</h2>
      <p className="muted">
        The model gives {name} {probability} against a threshold of {threshold}
        {finding.positive ? ', above it' : ', below it'}. Do you agree with this finding?
      </p>
      <fieldset className="verdicts">
        <legend>Assessment of {name}</legend>
        {VERDICTS.map((option) => (
          <label key={option} className="verdict-option">
            <input
              type="radio"
              name={`verdict-${noteId}`}
              value={option}
              checked={verdict === option}
              onChange={() => setVerdict(option)}
            />
            {VERDICT_TEXT[option]}
          </label>
        ))}
      </fieldset>
      <label htmlFor={noteId}>Note (optional)</label>
      <textarea
        id={noteId}
        value={note}
        maxLength={NOTE_MAX_LENGTH}
        rows={3}
        aria-describedby={`${noteId}-count`}
        onChange={(event) => setNote(event.target.value)}
      />
      <p id={`${noteId}-count`} className="muted small">
        {note.length} / {NOTE_MAX_LENGTH} characters
      </p>
      {save.isError && <ErrorMessage error={save.error} />}
      <div className="form-actions">
        <button type="submit" className="button-primary" disabled={!verdict || save.isPending || unchanged}>
          Save feedback
        </button>
        <span role="status" className="muted">
          {save.isPending
            ? 'Saving…'
            : current
              ? `Saved ${VERDICT_TEXT[current.verdict].toLowerCase()} by ${current.username}, ${formatDateTime(current.updated_at)}.`
              : 'Not yet answered.'}
        </span>
      </div>
    </form>
  );
}
