import type { Study } from '@/types/api';

/**
 * Says when the input screening changed the image before analysis (an inverted grey scale,
 * typically a MONOCHROME1/2 mix-up), so the reader knows what the model was shown.
 */
export function ScreeningNotice({ screening }: { screening: Study['screening'] }) {
  if (!screening?.corrected) return null;
  return (
    <p role="status" className="note study-notice">
      Input screening: this image arrived with an {screening.corrected}; it was corrected before analysis and
      is shown corrected. Check it against the original.
    </p>
  );
}
