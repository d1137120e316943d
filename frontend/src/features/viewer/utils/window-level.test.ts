import { describe, expect, it } from 'vitest';

import {
  applyPreset,
  applyWindow,
  DEFAULT_WINDOW,
  dragWindow,
  matchingPreset,
  MIN_WINDOW_WIDTH,
  WINDOW_DRAG_PER_PX,
  windowTransfer,
} from './window-level';

describe('window/level', () => {
  it('leaves the image unchanged with the full window', () => {
    expect(windowTransfer(DEFAULT_WINDOW)).toEqual({ slope: 1, intercept: 0 });
  });

  it('stretches the window over black..white and clips outside it', () => {
    const narrow = { level: 0.6, width: 0.2, invert: false };
    expect(applyWindow(0.5, narrow)).toBeCloseTo(0);
    expect(applyWindow(0.6, narrow)).toBeCloseTo(0.5);
    expect(applyWindow(0.7, narrow)).toBeCloseTo(1);
    expect(applyWindow(0.2, narrow)).toBe(0);
    expect(applyWindow(0.95, narrow)).toBe(1);
  });

  it('inverts black and white', () => {
    const inverted = { ...DEFAULT_WINDOW, invert: true };
    expect(applyWindow(0, inverted)).toBeCloseTo(1);
    expect(applyWindow(1, inverted)).toBeCloseTo(0);
    expect(applyWindow(0.25, { level: 0.5, width: 0.5, invert: true })).toBeCloseTo(1);
  });
});

describe('window/level presets and dragging', () => {
  it('applies a preset, keeping invert, and names the preset a window matches', () => {
    const lungs = applyPreset({ ...DEFAULT_WINDOW, invert: true }, 'lungs');
    expect(lungs).toEqual({ level: 0.35, width: 0.6, invert: true });
    expect(matchingPreset(lungs)).toBe('lungs');
    expect(matchingPreset(DEFAULT_WINDOW)).toBe('full');
    expect(matchingPreset({ level: 0.42, width: 0.3, invert: false })).toBeNull();
  });

  it('widens the window dragging right and raises the level dragging down, within their limits', () => {
    const start = { level: 0.5, width: 0.5, invert: false };
    const dragged = dragWindow(start, 100, -50);
    expect(dragged.width).toBeCloseTo(0.5 + 100 * WINDOW_DRAG_PER_PX);
    expect(dragged.level).toBeCloseTo(0.5 - 50 * WINDOW_DRAG_PER_PX);
    expect(dragWindow(start, -10_000, 10_000)).toEqual({ level: 1, width: MIN_WINDOW_WIDTH, invert: false });
    expect(dragWindow(start, 10_000, -10_000)).toEqual({ level: 0, width: 1, invert: false });
  });
});
