/** Dataset labels use underscores ("Pleural_Thickening"); people read "Pleural Thickening". */
export function displayLabel(label: string): string {
  return label.replace(/_/g, ' ');
}

export function formatPercent(fraction: number, decimals = 1): string {
  return `${(fraction * 100).toFixed(decimals)}%`;
}

const MAX_DECIMALS = 4;

/**
 * A value and its threshold as percentages with as many decimals (one at least) as it takes to tell
 * them apart, and to keep a small threshold off zero: rounded to one decimal, 49.96% against 50%
 * would read "50.0% against 50.0%: below". The server's PDF and draft do the same
 * (backend/reports/formatting.py).
 */
export function formatPercentPair(value: number, threshold: number): [string, string] {
  let decimals = 1;
  while (
    decimals < MAX_DECIMALS &&
    ((value !== threshold && formatPercent(value, decimals) === formatPercent(threshold, decimals)) ||
      (threshold > 0 && Number((threshold * 100).toFixed(decimals)) === 0))
  ) {
    decimals += 1;
  }
  return [formatPercent(value, decimals), formatPercent(threshold, decimals)];
}

const dateTimeFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });

export function formatDateTime(iso: string | null | undefined): string {
  if (!iso) return '—';
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : dateTimeFormat.format(date);
}

/** DICOM's Patient's Sex (M, F, O) as people read it; null when the file does not say. */
export function formatSex(sex: string | null | undefined): string | null {
  if (!sex) return null;
  return { M: 'Male', F: 'Female', O: 'Other' }[sex.toUpperCase()] ?? sex;
}
