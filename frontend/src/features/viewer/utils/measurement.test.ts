import { describe, expect, it } from 'vitest';

import { formatLength, horizontalWidth, lineLength, manualCardiothoracicRatio } from './measurement';

describe('measurements', () => {
  it('gives a length in pixels without a pixel spacing', () => {
    const length = lineLength([{ x: 0, y: 0 }, { x: 30, y: 40 }], null);
    expect(length).toEqual({ value: 50, unit: 'px' });
    expect(formatLength(length)).toBe('50 px');
  });

  it('gives a length in mm with DICOM\'s pixel spacing: rows first (vertical), then columns (horizontal)', () => {
    const length = lineLength([{ x: 0, y: 0 }, { x: 100, y: 100 }], [0.2, 0.1]);
    expect(length.unit).toBe('mm');
    expect(length.value).toBeCloseTo(Math.hypot(100 * 0.1, 100 * 0.2));
    expect(formatLength(length)).toBe('22.4 mm');
  });

  it('ignores a pixel spacing that is not two positive numbers', () => {
    expect(lineLength([{ x: 0, y: 0 }, { x: 3, y: 4 }], [0, 0.1]).unit).toBe('px');
    expect(lineLength([{ x: 0, y: 0 }, { x: 3, y: 4 }], [0.1]).unit).toBe('px');
  });

  it('computes the cardiothoracic ratio from the lines\' transverse widths, whatever their slant or direction', () => {
    const heart = [{ x: 600, y: 500 }, { x: 400, y: 540 }] as const;
    const thorax = [{ x: 200, y: 520 }, { x: 800, y: 530 }] as const;
    expect(manualCardiothoracicRatio(heart, thorax)).toBeCloseTo(200 / 600);
    expect(horizontalWidth(heart, null)).toEqual({ value: 200, unit: 'px' });
  });

  it('gives no ratio for a thorax line without width', () => {
    expect(manualCardiothoracicRatio([{ x: 0, y: 0 }, { x: 5, y: 0 }], [{ x: 3, y: 0 }, { x: 3, y: 9 }])).toBeNull();
  });
});
