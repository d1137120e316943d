/**
 * Window/level as radiology viewers do it: grey values inside [level - width/2, level + width/2]
 * are stretched over black..white, values outside are clipped; invert swaps black and white.
 * Levels and widths are fractions of the image's grey range (0..1).
 *
 * The mapping is linear, out = slope * in + intercept, which is exactly what an SVG
 * feComponentTransfer type="linear" applies per channel (clamped to 0..1).
 */
export type WindowLevel = { level: number; width: number; invert: boolean };

export const DEFAULT_WINDOW: WindowLevel = { level: 0.5, width: 1, invert: false };
export const MIN_WINDOW_WIDTH = 0.05;

export function windowTransfer({ level, width, invert }: WindowLevel): { slope: number; intercept: number } {
  const safeWidth = Math.max(width, MIN_WINDOW_WIDTH);
  const low = level - safeWidth / 2;
  const slope = 1 / safeWidth;
  const intercept = (0 - low) / safeWidth;
  return invert ? { slope: -slope, intercept: 1 - intercept } : { slope, intercept };
}

export function applyWindow(grey: number, window: WindowLevel): number {
  const { slope, intercept } = windowTransfer(window);
  return Math.min(1, Math.max(0, slope * grey + intercept));
}
