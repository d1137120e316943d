import { act, renderHook } from '@testing-library/react';
import type { KeyboardEvent } from 'react';
import { describe, expect, it, vi } from 'vitest';

import { UPRIGHT } from '../utils/orientation';
import { cursorStep, useMeasurements } from './use-measurements';

const key = (name: string, shiftKey = false) =>
  ({ key: name, shiftKey, preventDefault: vi.fn() }) as unknown as KeyboardEvent<HTMLElement>;
const imageSize = { width: 1000, height: 800 };

describe('useMeasurements', () => {
  it('measures a length from the keyboard: the cross starts at the centre, arrows move it, Enter places both ends', () => {
    const { result } = renderHook(() => useMeasurements({ imageSize, orientation: UPRIGHT }));
    act(() => void result.current.perform('lengthTool'));
    expect(result.current.mode).toBe('length');
    expect(result.current.cursor).toEqual({ x: 500, y: 400 });
    act(() => void result.current.onFrameKeyDown(key('Enter')));
    expect(result.current.instruction).toBe('Measuring a length: place its second end');
    act(() => void result.current.onFrameKeyDown(key('ArrowRight', true)));
    act(() => void result.current.onFrameKeyDown(key('ArrowDown')));
    act(() => void result.current.onFrameKeyDown(key(' ')));
    expect(result.current.lengths).toEqual([[{ x: 500, y: 400 }, { x: 550, y: 405 }]]);
    expect(result.current.mode).toBe('length');
  });

  it('moves the cross the way the arrow points on screen when the image is turned a quarter', () => {
    const turned = { ...UPRIGHT, rotation: 90 as const };
    const { result } = renderHook(() => useMeasurements({ imageSize, orientation: turned }));
    act(() => void result.current.perform('lengthTool'));
    act(() => void result.current.onFrameKeyDown(key('ArrowRight')));
    // Screen right on an image turned clockwise is the image's up.
    expect(result.current.cursor).toEqual({ x: 500, y: 395 });
  });

  it('measures the cardiothoracic ratio from four points, heart line then thorax line, and stops', () => {
    const { result } = renderHook(() => useMeasurements({ imageSize, orientation: UPRIGHT }));
    act(() => void result.current.perform('ratioTool'));
    expect(result.current.instruction).toBe('Cardiothoracic ratio: place the heart line, its first end');
    for (const point of [
      { x: 400, y: 500 },
      { x: 600, y: 505 },
      { x: 200, y: 520 },
      { x: 800, y: 520 },
    ]) {
      act(() => result.current.place(point));
    }
    expect(result.current.ratio?.ratio).toBeCloseTo(200 / 600);
    expect(result.current.mode).toBeNull();
  });

  it('keeps points inside the image, cancels with Escape and clears with Delete', () => {
    const { result } = renderHook(() => useMeasurements({ imageSize, orientation: UPRIGHT }));
    act(() => void result.current.perform('lengthTool'));
    act(() => result.current.place({ x: -50, y: 900 }));
    act(() => result.current.place({ x: 100, y: 100 }));
    expect(result.current.lengths[0]![0]).toEqual({ x: 0, y: 800 });
    let handled = false;
    act(() => {
      handled = result.current.perform('cancel');
    });
    expect(handled).toBe(true);
    expect(result.current.mode).toBeNull();
    act(() => {
      handled = result.current.perform('cancel');
    });
    expect(handled).toBe(false);
    act(() => void result.current.perform('clearMeasurements'));
    expect(result.current.lengths).toEqual([]);
  });

  it('leaves arrow keys to panning while not measuring', () => {
    const { result } = renderHook(() => useMeasurements({ imageSize, orientation: UPRIGHT }));
    const arrow = key('ArrowLeft');
    let handled = true;
    act(() => {
      handled = result.current.onFrameKeyDown(arrow);
    });
    expect(handled).toBe(false);
    expect(arrow.preventDefault).not.toHaveBeenCalled();
  });

  it('steps the cross by 1/200 of the image width, at least a pixel, ten times with Shift', () => {
    expect(cursorStep({ width: 1000, height: 1 }, false)).toBe(5);
    expect(cursorStep({ width: 1000, height: 1 }, true)).toBe(50);
    expect(cursorStep({ width: 50, height: 1 }, false)).toBe(1);
  });
});
