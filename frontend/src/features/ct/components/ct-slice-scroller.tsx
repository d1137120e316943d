import { useId } from 'react';

import type { CTResult } from '@/types/api';
import { formatPercent } from '@/utils/format';

/** Where a CT slice is served, as the CT model saw it (backend: studies.ct_views). */
export function ctSlicePath(studyId: string, index: number): string {
  return `/api/studies/${encodeURIComponent(studyId)}/ct-slices/${index}/`;
}

type CTSliceScrollerProps = {
  ct: CTResult | null;
  /** The slice shown (from 0), or null for the series' middle slice at its own size. */
  index: number | null;
  onChange: (index: number) => void;
};

/** A slider through a CT series' slices (arrow keys step one), with each slice's probability. */
export function CTSliceScroller({ ct, index, onChange }: CTSliceScrollerProps) {
  const id = useId();
  const count = ct?.slice_probabilities.length ?? 0;
  if (!ct || count < 2) return null;
  const shown = index ?? Math.floor(count / 2);
  const probability = ct.slice_probabilities[shown];
  return (
    <div className="ct-slice-scroller">
      <label htmlFor={id}>Slice</label>
      <input
        id={id}
        type="range"
        min={1}
        max={count}
        value={shown + 1}
        aria-valuetext={`Slice ${shown + 1} of ${count}`}
        onChange={(event) => onChange(Number(event.target.value) - 1)}
      />
      <span role="status" className="muted small">
        Slice {shown + 1} of {count}
        {probability === undefined ? '' : `: ${formatPercent(probability)} severe involvement`}
      </span>
    </div>
  );
}
