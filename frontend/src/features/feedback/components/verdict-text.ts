import type { Verdict } from '@/types/api';

export const VERDICT_TEXT: Record<Verdict, string> = {
  agree: 'Agree',
  disagree: 'Disagree',
  unsure: 'Unsure',
};

export const VERDICTS = Object.keys(VERDICT_TEXT) as Verdict[];
