import type { Study } from '@/types/api';
import { formatSex } from '@/utils/format';

type Metadata = Study['metadata'];

const NOT_RECORDED = 'Not recorded';

function formatSpacing(spacing: readonly number[] | null | undefined): string {
  if (!spacing || spacing.length === 0) return NOT_RECORDED;
  return `${spacing.map((value) => Number(value.toPrecision(4))).join(' × ')} mm`;
}


/** What the image file said about itself: DICOM files carry these; PNG and JPEG files do not. */
export function ImageMetadata({ metadata }: { metadata: Metadata | null | undefined }) {
  const values = metadata ?? null;
  const age = values?.patient_age_years;
  return (
    <section className="card" aria-labelledby="image-metadata-heading">
      <h2 id="image-metadata-heading">Image</h2>
      <dl className="key-values">
        <dt>Patient age</dt>
        <dd>{age === null || age === undefined ? NOT_RECORDED : `${age} years`}</dd>
        <dt>Patient sex</dt>
        <dd>{formatSex(values?.patient_sex) ?? NOT_RECORDED}</dd>
        <dt>View</dt>
        <dd>{values?.view_position || NOT_RECORDED}</dd>
        <dt>Pixel spacing</dt>
        <dd>{formatSpacing(values?.pixel_spacing_mm)}</dd>
        <dt>Modality</dt>
        <dd>{values?.modality || NOT_RECORDED}</dd>
        <dt>Body part</dt>
        <dd>{values?.body_part || NOT_RECORDED}</dd>
      </dl>
      {values && Object.values(values).every((value) => value === null) && (
        <p className="muted">PNG and JPEG files carry no patient or acquisition details; DICOM files do.</p>
      )}
    </section>
  );
}
