import type { Finding } from '@/types/api';

/** Positives first, then by probability, highest first. */
export function sortFindings(findings: readonly Finding[]): Finding[] {
  return [...findings].sort(
    (a, b) => Number(b.positive) - Number(a.positive) || b.probability - a.probability,
  );
}
