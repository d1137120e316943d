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

/**
 * Presets over the display copy's grey range (an 8-bit PNG: no Hounsfield units, so these are
 * fractions of its range, chosen for where each tissue falls on a chest film: the lungs dark,
 * the mediastinum mid-grey, bone brightest).
 */
export const WINDOW_PRESETS = [
  { id: 'full', name: 'Full range', level: 0.5, width: 1 },
  { id: 'lungs', name: 'Lungs', level: 0.35, width: 0.6 },
  { id: 'mediastinum', name: 'Mediastinum', level: 0.6, width: 0.45 },
  { id: 'bone', name: 'Bone', level: 0.75, width: 0.35 },
] as const;

export type WindowPresetId = (typeof WINDOW_PRESETS)[number]['id'];

export function applyPreset(current: WindowLevel, id: WindowPresetId): WindowLevel {
  const preset = WINDOW_PRESETS.find((candidate) => candidate.id === id) ?? WINDOW_PRESETS[0];
  return { level: preset.level, width: preset.width, invert: current.invert };
}

/** The preset the window matches, if any (the preset selector shows "Custom" otherwise). */
export function matchingPreset(window: WindowLevel): WindowPresetId | null {
  const near = (a: number, b: number) => Math.abs(a - b) < 1e-6;
  return WINDOW_PRESETS.find((preset) => near(preset.level, window.level) && near(preset.width, window.width))?.id ?? null;
}

/** How far a drag of one screen pixel moves the window: a drag across a 500 px frame spans the range. */
export const WINDOW_DRAG_PER_PX = 0.002;

const clamp = (value: number, low: number, high: number) => Math.min(high, Math.max(low, value));

/**
 * Window/level by dragging, as PACS viewers do: left-right changes the width (contrast: right
 * widens), up-down the level (brightness: down raises the level, which darkens the image).
 */
export function dragWindow(start: WindowLevel, dx: number, dy: number): WindowLevel {
  return {
    level: clamp(start.level + dy * WINDOW_DRAG_PER_PX, 0, 1),
    width: clamp(start.width + dx * WINDOW_DRAG_PER_PX, MIN_WINDOW_WIDTH, 1),
    invert: start.invert,
  };
}
