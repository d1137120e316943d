import type { Finding } from '@/types/api';

/**
 * Positives first, then by calibrated score, highest first: thresholds differ between findings, so
 * the score, not the raw probability, says which finding is the more suspicious.
 */
export function sortFindings(findings: readonly Finding[]): Finding[] {
  return [...findings].sort(
    (a, b) => Number(b.positive) - Number(a.positive) || b.calibrated_score - a.calibrated_score,
  );
}
