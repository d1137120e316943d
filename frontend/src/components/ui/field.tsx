import { cloneElement, type ReactElement, useId } from 'react';

type FieldProps = {
  label: string;
  className?: string;
  /** One form control; it gets the id the label points at. */
  children: ReactElement<{ id?: string }>;
};

/**
 * A label above its control, tied by id rather than by wrapping, so the control's accessible name
 * is the label alone (a wrapping label would add the control's current value to it).
 */
export function Field({ label, className = 'field', children }: FieldProps) {
  const id = useId();
  return (
    <div className={className}>
      <label htmlFor={id}>{label}</label>
      {cloneElement(children, { id })}
    </div>
  );
}
