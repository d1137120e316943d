import type { Finding, Study } from '@/types/api';

/** Whether a value went up, down or stayed within rounding of where it was. */
export type Direction = 'up' | 'down' | 'same';

export type FindingChange = {
  label: string;
  current: number;
  prior: number;
  /** The change in probability, in percentage points (current − prior). */
  changePp: number;
  direction: Direction;
  /** Whether the finding crossed its threshold between the two studies. */
  crossed: 'became-positive' | 'became-negative' | null;
};

export type RatioChange = { current: number; prior: number; change: number; direction: Direction };

// Changes are shown to one decimal (of a percentage point, of a ratio's hundredth): anything that
// rounds to zero is no change, so the arrow never points where the number says 0.0.
const SAME_PP = 0.05;
const SAME_RATIO = 0.005;

function direction(change: number, same: number): Direction {
  if (Math.abs(change) < same) return 'same';
  return change > 0 ? 'up' : 'down';
}

/**
 * Each finding of the current study that the prior study also has, in the current study's order,
 * with its change in probability. A finding only one of them has (another model's labels) is left out.
 */
export function findingChanges(current: readonly Finding[], prior: readonly Finding[]): FindingChange[] {
  const priorByLabel = new Map(prior.map((finding) => [finding.label, finding]));
  return current.flatMap((finding) => {
    const before = priorByLabel.get(finding.label);
    if (!before) return [];
    const changePp = (finding.probability - before.probability) * 100;
    const crossed =
      finding.positive === before.positive ? null : finding.positive ? ('became-positive' as const) : ('became-negative' as const);
    return [{ label: finding.label, current: finding.probability, prior: before.probability, changePp, direction: direction(changePp, SAME_PP), crossed }];
  });
}

/** The cardiothoracic ratio's change, when the segmentation measured it on both studies; else null. */
export function ratioChange(current: Study, prior: Study): RatioChange | null {
  const now = current.segmentation?.cardiothoracic_ratio?.ratio;
  const before = prior.segmentation?.cardiothoracic_ratio?.ratio;
  if (now == null || before == null) return null;
  const change = now - before;
  return { current: now, prior: before, change, direction: direction(change, SAME_RATIO) };
}

const ARROWS: Record<Direction, string> = { up: '↑', down: '↓', same: '→' };

/** "↑ +12.3 pp", "↓ −4.0 pp", "→ ±0.0 pp": the sign as typeset, never "-0.0". */
export function formatChangePp(change: FindingChange): string {
  return `${ARROWS[change.direction]} ${signed(change.changePp, 1, change.direction)} pp`;
}

/** "↑ +0.06", "→ ±0.00". */
export function formatRatioChange(change: RatioChange): string {
  return `${ARROWS[change.direction]} ${signed(change.change, 2, change.direction)}`;
}

function signed(value: number, digits: number, towards: Direction): string {
  const magnitude = Math.abs(value).toFixed(digits);
  if (towards === 'same') return `±${(0).toFixed(digits)}`;
  return `${towards === 'up' ? '+' : '−'}${magnitude}`;
}
