/** Dataset labels use underscores ("Pleural_Thickening"); people read "Pleural Thickening". */
export function displayLabel(label: string): string {
  return label.replace(/_/g, ' ');
}

export function formatPercent(fraction: number): string {
  return `${(fraction * 100).toFixed(1)}%`;
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
