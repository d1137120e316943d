import { act, renderHook } from '@testing-library/react';
import type { KeyboardEvent } from 'react';
import { describe, expect, it, vi } from 'vitest';

import { DEFAULT_WINDOW } from '../utils/window-level';
import { MAX_ZOOM, MIN_ZOOM, useViewerState } from './use-viewer-state';

const key = (name: string) => ({ key: name, preventDefault: vi.fn() }) as unknown as KeyboardEvent<HTMLDivElement>;

describe('useViewerState', () => {
  it('zooms in steps of 25 % and stops at the zoom limits', () => {
    const { result } = renderHook(() => useViewerState('blob:image'));
    act(() => result.current.zoomOut());
    expect(result.current.zoom).toBe(MIN_ZOOM);
    act(() => result.current.zoomIn());
    expect(result.current.zoom).toBe(1.25);
    for (let step = 0; step < 12; step += 1) act(() => result.current.zoomIn());
    expect(result.current.zoom).toBe(MAX_ZOOM);
  });

  it('answers the frame keys: + and - zoom, 0 resets, other keys pass through', () => {
    const { result } = renderHook(() => useViewerState('blob:image'));
    const plus = key('+');
    act(() => result.current.frameHandlers.onKeyDown(plus));
    expect(result.current.zoom).toBe(1.25);
    expect(plus.preventDefault).toHaveBeenCalled();
    act(() => result.current.frameHandlers.onKeyDown(key('=')));
    act(() => result.current.frameHandlers.onKeyDown(key('-')));
    expect(result.current.zoom).toBe(1.25);
    const letter = key('a');
    act(() => result.current.frameHandlers.onKeyDown(letter));
    expect(letter.preventDefault).not.toHaveBeenCalled();
    act(() => result.current.frameHandlers.onKeyDown(key('0')));
    expect(result.current.zoom).toBe(1);
  });

  it('keeps the image in view: without room to pan (no zoom) the offset stays zero', () => {
    const { result } = renderHook(() => useViewerState('blob:image'));
    act(() => result.current.frameHandlers.onKeyDown(key('ArrowLeft')));
    expect(result.current.offset).toEqual({ x: 0, y: 0 });
  });

  it('says the image is windowed once the window changes, and reset view restores the stored window', () => {
    const { result } = renderHook(() => useViewerState('blob:image'));
    expect(result.current.windowed).toBe(false);
    act(() => result.current.setWindowLevel({ ...DEFAULT_WINDOW, invert: true }));
    expect(result.current.windowed).toBe(true);
    act(() => result.current.zoomIn());
    act(() => result.current.resetView());
    expect(result.current.windowLevel).toEqual(DEFAULT_WINDOW);
    expect(result.current.windowed).toBe(false);
    expect(result.current.zoom).toBe(1);
  });
});
