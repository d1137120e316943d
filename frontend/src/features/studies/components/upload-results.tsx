export type UploadResult =
  | { key: number; fileName: string; state: 'uploading' }
  | { key: number; fileName: string; state: 'queued' | 'cached' }
  | { key: number; fileName: string; state: 'error'; message: string };

function resultText(result: UploadResult): string {
  switch (result.state) {
    case 'uploading':
      return 'Uploading…';
    case 'queued':
      return 'Queued';
    case 'cached':
      return 'From cache';
    case 'error':
      return result.message;
  }
}

export function UploadResults({ results }: { results: UploadResult[] }) {
  if (results.length === 0) return null;
  return (
    <ul className="upload-results" aria-label="Upload results" aria-live="polite">
      {results.map((result) => (
        <li key={result.key} className={`upload-result upload-${result.state}`}>
          <span className="upload-file-name">{result.fileName}</span>
          <span className="upload-outcome">{resultText(result)}</span>
        </li>
      ))}
    </ul>
  );
}
