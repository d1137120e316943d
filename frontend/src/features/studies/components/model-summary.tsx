import type { ModelCard } from '@/types/api';

export function ModelSummary({ model }: { model: ModelCard | null }) {
  if (!model) return <p className="muted">Model: not recorded yet.</p>;
  return (
    <p className="model-summary">
      Model <strong>{model.name}</strong> version {model.version} —{' '}
      {model.trained ? (
        <span>trained</span>
      ) : (
        <span className="error-text">untrained</span>
      )}
      {model.weights_sha256 && (
        <span className="muted" title={model.weights_sha256}>
          {' '}
          · weights {model.weights_sha256.slice(0, 12)}…
        </span>
      )}
    </p>
  );
}
