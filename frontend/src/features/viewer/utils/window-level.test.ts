import { describe, expect, it } from 'vitest';

import { applyWindow, DEFAULT_WINDOW, windowTransfer } from './window-level';

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
