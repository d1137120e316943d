import { type ChangeEvent, type DragEvent, useRef, useState } from 'react';

import { errorMessage } from '@/lib/api-error';

import { useUploadStudy } from '../api/upload-study';
import { type UploadResult, UploadResults } from './upload-results';

// A chest CT series comes as a zip of its DICOM slices or as one (multi-frame) DICOM file.
export const ACCEPTED_TYPES = '.png,.jpg,.jpeg,.dcm,.zip,image/png,image/jpeg,application/dicom,application/zip';

// As the server accepts it (studies.patients): a hospital number or another local reference.
// Spaces around it are trimmed (by the server too). The pattern attribute is compiled with the v
// flag: / and - are escaped in the class.
export const PATIENT_REFERENCE_PATTERN = ' *[A-Za-z0-9][A-Za-z0-9 ._\\/:#\\-]*';
const PATIENT_REFERENCE_MAX_LENGTH = 64;

export function UploadRadiographs() {
  const [results, setResults] = useState<UploadResult[]>([]);
  const [dragging, setDragging] = useState(false);
  const [asOneStudy, setAsOneStudy] = useState(false);
  const [patientReference, setPatientReference] = useState('');
  const referenceInput = useRef<HTMLInputElement>(null);
  const nextKey = useRef(0);
  const upload = useUploadStudy();

  const update = (key: number, result: UploadResult) =>
    setResults((previous) => previous.map((item) => (item.key === key ? result : item)));

  // One study at a time: a batch of parallel uploads would trip the server's rate limit.
  const uploadAll = async (files: File[]) => {
    if (referenceInput.current && !referenceInput.current.checkValidity()) {
      referenceInput.current.reportValidity();
      return;
    }
    // The reference names this batch's patient only: cleared, so the next files are not taken for theirs.
    const reference = patientReference.trim();
    setPatientReference('');
    const studies = studiesOf(files, asOneStudy);
    const pending = studies.map((group) => ({
      key: nextKey.current++,
      fileName: group.map((file) => file.name).join(' + '),
      state: 'waiting' as const,
    }));
    setResults((previous) => [...pending, ...previous]);
    for (const [index, group] of studies.entries()) {
      const { key, fileName } = pending[index]!;
      update(key, { key, fileName, state: 'uploading', percent: 0 });
      try {
        const created = await upload.mutateAsync({
          files: group,
          patientReference: reference,
          onProgress: ({ loaded, total }) =>
            update(key, { key, fileName, state: 'uploading', percent: total ? Math.round((loaded / total) * 100) : 0 }),
        });
        update(key, { key, fileName, state: created.cached ? 'cached' : 'queued', studyId: created.id });
      } catch (error) {
        update(key, { key, fileName, state: 'error', message: errorMessage(error) });
      }
    }
  };

  const handleChange = (event: ChangeEvent<HTMLInputElement>) => {
    const files = Array.from(event.target.files ?? []);
    // Clearing the input lets the same file be chosen again.
    event.target.value = '';
    if (files.length > 0) void uploadAll(files);
  };

  const handleDragOver = (event: DragEvent<HTMLDivElement>) => {
    event.preventDefault();
    event.dataTransfer.dropEffect = 'copy';
    setDragging(true);
  };

  const handleDragLeave = (event: DragEvent<HTMLDivElement>) => {
    if (!event.currentTarget.contains(event.relatedTarget as Node | null)) setDragging(false);
  };

  const handleDrop = (event: DragEvent<HTMLDivElement>) => {
    event.preventDefault();
    setDragging(false);
    const files = Array.from(event.dataTransfer.files);
    if (files.length > 0) void uploadAll(files);
  };

  return (
    <section className="upload" aria-labelledby="upload-heading">
      <h2 id="upload-heading">New studies</h2>
      <div
        className={`drop-zone${dragging ? ' is-dragging' : ''}`}
        data-testid="drop-zone"
        onDragOver={handleDragOver}
        onDragLeave={handleDragLeave}
        onDrop={handleDrop}
      >
        <p>Drop chest radiographs here (PNG, JPEG or DICOM), or a chest CT series (a zip of its DICOM slices or a multi-frame DICOM), or</p>
        <label htmlFor="upload-radiographs" className="button-primary">
          Upload radiographs
        </label>
        <input
          id="upload-radiographs"
          className="file-input"
          type="file"
          multiple
          accept={ACCEPTED_TYPES}
          onChange={handleChange}
        />
      </div>
      <div className="field">
        <label htmlFor="patient-reference">Patient reference (optional)</label>
        <input
          id="patient-reference"
          ref={referenceInput}
          type="text"
          autoComplete="off"
          spellCheck={false}
          maxLength={PATIENT_REFERENCE_MAX_LENGTH}
          pattern={PATIENT_REFERENCE_PATTERN}
          value={patientReference}
          aria-describedby="patient-reference-hint"
          onChange={(event) => setPatientReference(event.target.value)}
        />
        <p id="patient-reference-hint" className="muted small">
          The hospital number of the patient of the next files, where they do not name one (PNG, JPEG) or to confirm a film
          beside a DICOM file: it links the patient&apos;s studies so that the prior can be compared. Only a keyed hash of it is
          kept. Letters, digits, spaces and . _ / : # -.
        </p>
      </div>
      <label className="checkbox-field">
        <input type="checkbox" checked={asOneStudy} onChange={(event) => setAsOneStudy(event.target.checked)} />
        Several files at once make one study (images of one patient and visit, such as a frontal and a lateral)
      </label>
      <UploadSummary results={results} />
      <UploadResults results={results} />
    </section>
  );
}

/** The files of each study to upload: one study per file, or all of them as one study. */
export function studiesOf(files: File[], asOneStudy: boolean): File[][] {
  return asOneStudy && files.length > 1 ? [files] : files.map((file) => [file]);
}

/** One polite announcement per change of the batch's state, instead of one per progress event. */
function UploadSummary({ results }: { results: UploadResult[] }) {
  if (results.length === 0) return null;
  const done = results.filter((result) => result.state === 'queued' || result.state === 'cached').length;
  const failed = results.filter((result) => result.state === 'error').length;
  const busy = results.length - done - failed;
  return (
    <p className="muted" role="status">
      {done} of {results.length} uploaded{failed > 0 ? `, ${failed} refused` : ''}
      {busy > 0 ? `, ${busy} in progress` : ''}.
    </p>
  );
}
