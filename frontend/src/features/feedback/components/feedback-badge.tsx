import type { FindingFeedback } from '@/types/api';

import { VERDICT_TEXT } from './verdict-text';

/** The user's answer on one finding, shown beside it in the list. */
export function FeedbackBadge({ feedback }: { feedback: FindingFeedback | undefined }) {
  if (!feedback) return null;
  return <span className={`feedback-badge feedback-${feedback.verdict}`}>You: {VERDICT_TEXT[feedback.verdict].toLowerCase()}</span>;
}
