import { type FormEvent, useId, useState } from 'react';

import { ErrorMessage } from '@/components/ui/error-message';
import { ApiError } from '@/lib/api-error';
import type { ClinicianReport } from '@/types/api';

import { type ReportAction } from '../api/clinician-report';

// The server's caps (backend/reports/models.py).
export const TEXT_MAX_LENGTH = 20_000;
export const IMPRESSION_MAX_LENGTH = 5_000;
export const REASON_MAX_LENGTH = 1_000;

type ReportEditorProps = {
  report: ClinicianReport;
  pending: boolean;
  error: unknown;
  onAct: (action: ReportAction) => void;
  onReload: () => void;
};

/** The draft's text and impression, saved or signed (signing saves the edits first). */
export function ReportEditor({ report, pending, error, onAct, onReload }: ReportEditorProps) {
  // Keyed by version and save time in the parent: the fields start from what the server holds.
  const [text, setText] = useState(report.text);
  const [impression, setImpression] = useState(report.impression);
  const id = useId();
  const dirty = report.version === 0 || text.trim() !== report.text || impression.trim() !== report.impression;
  const draft = { version: report.version, text, impression };
  const stale = error instanceof ApiError && error.status === 409;

  const handleSubmit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    onAct({ kind: 'save', draft });
  };

  return (
    <form onSubmit={handleSubmit} aria-label="Edit the report">
      <label htmlFor={`${id}-text`}>Report text</label>
      <textarea
        id={`${id}-text`}
        value={text}
        maxLength={TEXT_MAX_LENGTH}
        rows={8}
        onChange={(event) => setText(event.target.value)}
      />
      <label htmlFor={`${id}-impression`}>Impression</label>
      <textarea
        id={`${id}-impression`}
        value={impression}
        maxLength={IMPRESSION_MAX_LENGTH}
        rows={3}
        aria-describedby={`${id}-impression-hint`}
        onChange={(event) => setImpression(event.target.value)}
      />
      <p id={`${id}-impression-hint`} className="muted small">
        A report is signed with an impression. {impression.length} / {IMPRESSION_MAX_LENGTH} characters.
      </p>
      {error !== null && error !== undefined && <ErrorMessage error={error} />}
      {stale && (
        <button type="button" className="button-secondary" onClick={onReload}>
          Load the latest version (your edits here are discarded)
        </button>
      )}
      <div className="form-actions">
        <button type="submit" className="button-secondary" disabled={pending || !dirty}>
          Save draft
        </button>
        <button
          type="button"
          className="button-primary"
          disabled={pending || !impression.trim()}
          onClick={() => onAct({ kind: 'sign', version: report.version, draft: dirty ? draft : null })}
        >
          Sign report
        </button>
        <span role="status" className="muted">
          {pending ? 'Saving…' : dirty ? 'Unsaved changes.' : `Version ${report.version} saved.`}
        </span>
      </div>
    </form>
  );
}

type AmendFormProps = { report: ClinicianReport; pending: boolean; error: unknown; onAct: (action: ReportAction) => void };

/** A signed report changes only by an amendment, which says why: a new draft version. */
export function AmendForm({ report, pending, error, onAct }: AmendFormProps) {
  const [reason, setReason] = useState('');
  const id = useId();
  return (
    <form
      aria-label="Amend the signed report"
      onSubmit={(event) => {
        event.preventDefault();
        onAct({ kind: 'amend', version: report.version, reason });
      }}
    >
      <label htmlFor={id}>Reason for an amendment</label>
      <input id={id} value={reason} maxLength={REASON_MAX_LENGTH} onChange={(event) => setReason(event.target.value)} />
      {error !== null && error !== undefined && <ErrorMessage error={error} />}
      <div className="form-actions">
        <button type="submit" className="button-secondary" disabled={pending || !reason.trim()}>
          Amend report
        </button>
      </div>
    </form>
  );
}
