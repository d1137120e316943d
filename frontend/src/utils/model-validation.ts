/**
 * A model card's `validation` is free-form JSON (whatever the training run recorded). These helpers
 * find the AUROC figures in the usual layouts: {"auroc": 0.84}, {"mean_auroc": 0.84},
 * {"auroc": {"Cardiomegaly": 0.91, ...}} or {"per_label": {"Cardiomegaly": {"auroc": 0.91}, ...}}.
 */
export type ValidationAuroc = {
  mean: number | null;
  perLabel: Record<string, number>;
};

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const isAurocKey = (key: string) => /auroc|auc/i.test(key) && !/ci|interval|std/i.test(key);

function aurocOf(value: unknown): number | null {
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  if (isRecord(value)) {
    for (const [key, inner] of Object.entries(value)) {
      if (isAurocKey(key) && typeof inner === 'number' && Number.isFinite(inner)) return inner;
    }
  }
  return null;
}

export function validationAuroc(validation: unknown, labels: readonly string[] = []): ValidationAuroc {
  const result: ValidationAuroc = { mean: null, perLabel: {} };
  if (!isRecord(validation)) return result;
  const known = new Set(labels);

  const collect = (table: Record<string, unknown>) => {
    for (const [label, value] of Object.entries(table)) {
      if (known.size > 0 && !known.has(label)) continue;
      const auroc = aurocOf(value);
      if (auroc !== null) result.perLabel[label] = auroc;
    }
  };

  for (const [key, value] of Object.entries(validation)) {
    if (typeof value === 'number' && isAurocKey(key)) {
      // "mean_auroc" wins over a bare "auroc" when both are there.
      if (result.mean === null || /mean|macro|average/i.test(key)) result.mean = value;
    } else if (isRecord(value) && (isAurocKey(key) || /label|finding|class/i.test(key))) {
      collect(value);
    }
  }
  return result;
}
