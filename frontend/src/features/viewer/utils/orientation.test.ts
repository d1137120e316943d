import { describe, expect, it } from 'vitest';

import { orientationTransform, rotateClockwise, rotationFitScale, screenStepToImage, UPRIGHT } from './orientation';

describe('orientation', () => {
  it('rotates a quarter turn at a time and comes back upright after four', () => {
    let orientation = UPRIGHT;
    const seen: number[] = [];
    for (let turn = 0; turn < 4; turn += 1) {
      orientation = rotateClockwise(orientation);
      seen.push(orientation.rotation);
    }
    expect(seen).toEqual([90, 180, 270, 0]);
  });

  it('writes the CSS transform: the mirror first, then the rotation', () => {
    expect(orientationTransform({ rotation: 90, flipHorizontal: true, flipVertical: false })).toBe('rotate(90deg) scale(-1, 1)');
  });

  it('maps a screen step to the image step that shows as it, under every rotation and mirror', () => {
    const right = { x: 1, y: 0 };
    expect(screenStepToImage(right, UPRIGHT)).toEqual({ x: 1, y: 0 });
    expect(screenStepToImage(right, { ...UPRIGHT, rotation: 90 })).toEqual({ x: 0, y: -1 });
    expect(screenStepToImage(right, { ...UPRIGHT, rotation: 180 })).toEqual({ x: -1, y: -0 });
    expect(screenStepToImage(right, { ...UPRIGHT, rotation: 270 })).toEqual({ x: -0, y: 1 });
    expect(screenStepToImage(right, { ...UPRIGHT, flipHorizontal: true })).toEqual({ x: -1, y: 0 });
    expect(screenStepToImage({ x: 0, y: 1 }, { ...UPRIGHT, flipVertical: true })).toEqual({ x: 0, y: -1 });
  });

  it('shrinks a quarter-turned image just enough to fit its frame, and leaves an upright one alone', () => {
    const frame = { width: 800, height: 600 };
    const wide = { width: 2000, height: 1000 };
    expect(rotationFitScale(frame, wide, 0)).toBe(1);
    // Shown 800×400; turned it is 400 wide and 800 tall in a 600-tall frame.
    expect(rotationFitScale(frame, wide, 90)).toBeCloseTo(600 / 800);
    expect(rotationFitScale(frame, { width: 1000, height: 1000 }, 270)).toBe(1);
    expect(rotationFitScale({ width: 0, height: 0 }, wide, 90)).toBe(1);
  });
});
