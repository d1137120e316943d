import { useState } from 'react';

type ConfirmActionProps = {
  label: string;
  /** What the admin confirms, said in full (what changes for new analyses). */
  question: string;
  onConfirm: () => void;
  disabled?: boolean;
  danger?: boolean;
};

/** A button that asks before it acts: every change of what analyses is confirmed first. */
export function ConfirmAction({ label, question, onConfirm, disabled, danger }: ConfirmActionProps) {
  const [asking, setAsking] = useState(false);
  if (!asking) {
    return (
      <button
        type="button"
        className={danger ? 'button-danger' : 'button-secondary'}
        disabled={disabled}
        onClick={() => setAsking(true)}
      >
        {label}
      </button>
    );
  }
  return (
    <span className="confirm-action" role="group" aria-label={`Confirm: ${label}`}>
      <span>{question}</span>{' '}
      <button
        type="button"
        className={danger ? 'button-danger' : undefined}
        onClick={() => {
          setAsking(false);
          onConfirm();
        }}
      >
        Confirm
      </button>{' '}
      <button type="button" className="button-secondary" onClick={() => setAsking(false)}>
        Cancel
      </button>
    </span>
  );
}
