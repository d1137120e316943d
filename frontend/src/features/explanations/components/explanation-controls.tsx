import { useState } from 'react';

import { Field } from '@/components/ui/field';
import type { ExplanationMethod, Finding } from '@/types/api';
import { displayLabel } from '@/utils/format';

import { useExplanation } from '../api/explanations';
import { DEFAULT_METHOD, METHOD_NAMES, METHODS } from '../utils/explanation-methods';
import { FaithfulnessScores } from './faithfulness-scores';

export type ExplanationChoice = { method: ExplanationMethod; compareWith: ExplanationMethod | null };

export const DEFAULT_CHOICE: ExplanationChoice = { method: DEFAULT_METHOD, compareWith: null };

type ExplanationControlsProps = {
  studyId: string;
  finding: Finding;
  choice: ExplanationChoice;
  onChange: (choice: ExplanationChoice) => void;
};

function MethodSelect({
  label,
  value,
  onChange,
}: {
  label: string;
  value: ExplanationMethod;
  onChange: (method: ExplanationMethod) => void;
}) {
  return (
    <Field label={label}>
      <select value={value} onChange={(event) => onChange(event.target.value as ExplanationMethod)}>
        {METHODS.map((method) => (
          <option key={method} value={method}>
            {METHOD_NAMES[method]}
          </option>
        ))}
      </select>
    </Field>
  );
}

/**
 * Which method explains the selected finding, how faithful its map is, and whether to compare two
 * side by side. Grad-CAM's map is there already; its faithfulness is measured when asked for, the
 * other methods are computed (once, by the worker) when chosen.
 */
export function ExplanationControls({ studyId, finding, choice, onChange }: ExplanationControlsProps) {
  const [measureDefault, setMeasureDefault] = useState(false);
  const methodName = METHOD_NAMES[choice.method];
  // Side by side, both maps are computed with their scores anyway.
  const wanted = choice.method !== DEFAULT_METHOD || measureDefault || choice.compareWith !== null;
  const explanation = useExplanation(studyId, finding.label, choice.method, wanted);
  const nextOther = METHODS.find((method) => method !== choice.method) ?? DEFAULT_METHOD;

  return (
    <section className="card explanation-controls" aria-labelledby="explanation-heading">
      <h2 id="explanation-heading">Explanation: {displayLabel(finding.label)}</h2>
      <MethodSelect
        label="Explanation method"
        value={choice.method}
        onChange={(method) => onChange({ ...choice, method })}
      />
      {wanted ? (
        <FaithfulnessScores methodName={methodName} explanation={explanation.data} error={explanation.error} />
      ) : (
        <button type="button" className="button-secondary" onClick={() => setMeasureDefault(true)}>
          Measure {methodName}'s faithfulness
        </button>
      )}
      <label className="checkbox-field">
        <input
          type="checkbox"
          checked={choice.compareWith !== null}
          onChange={(event) => onChange({ ...choice, compareWith: event.target.checked ? nextOther : null })}
        />
        Compare two methods side by side
      </label>
      {choice.compareWith !== null && (
        <MethodSelect
          label="Compare with"
          value={choice.compareWith}
          onChange={(compareWith) => onChange({ ...choice, compareWith })}
        />
      )}
      <p className="muted explanation-note">
        Methods often disagree. The scores say which map the model's own probability bears out: blurring the
        pixels a faithful map ranks highest should lower the probability quickly, and restoring them should raise it.
      </p>
    </section>
  );
}
