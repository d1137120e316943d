import { act, renderHook } from '@testing-library/react';
import type { KeyboardEvent } from 'react';
import { describe, expect, it, vi } from 'vitest';

import { DEFAULT_WINDOW } from '../utils/window-level';
import { MAX_ZOOM, MIN_ZOOM, useViewerState } from './use-viewer-state';

const key = (name: string) => ({ key: name, preventDefault: vi.fn() }) as unknown as KeyboardEvent<HTMLDivElement>;
const options = { imageUrl: 'blob:image', imageSize: { width: 2000, height: 1000 } };

describe('useViewerState', () => {
  it('zooms in steps of 25 % and stops at the zoom limits', () => {
    const { result } = renderHook(() => useViewerState(options));
    act(() => result.current.zoomOut());
    expect(result.current.zoom).toBe(MIN_ZOOM);
    act(() => result.current.zoomIn());
    expect(result.current.zoom).toBe(1.25);
    for (let step = 0; step < 12; step += 1) act(() => result.current.zoomIn());
    expect(result.current.zoom).toBe(MAX_ZOOM);
  });

  it('runs the view\'s hotkey actions: + and - zoom, = fits, and declines the actions that are not the view\'s', () => {
    const { result } = renderHook(() => useViewerState(options));
    act(() => void result.current.perform('zoomIn'));
    act(() => void result.current.perform('zoomIn'));
    expect(result.current.zoom).toBeCloseTo(1.5625);
    act(() => void result.current.perform('zoomOut'));
    expect(result.current.zoom).toBe(1.25);
    act(() => void result.current.perform('fit'));
    expect(result.current.zoom).toBe(1);
    let handled = true;
    act(() => {
      handled = result.current.perform('lengthTool');
    });
    expect(handled).toBe(false);
  });

  it('inverts, rotates a quarter turn at a time, flips each axis, and reset restores all of it', () => {
    const { result } = renderHook(() => useViewerState(options));
    act(() => void result.current.perform('invert'));
    expect(result.current.windowLevel.invert).toBe(true);
    for (let turn = 0; turn < 3; turn += 1) act(() => void result.current.perform('rotate'));
    expect(result.current.orientation.rotation).toBe(270);
    act(() => void result.current.perform('rotate'));
    expect(result.current.orientation.rotation).toBe(0);
    act(() => void result.current.perform('flipHorizontal'));
    act(() => void result.current.perform('flipVertical'));
    expect(result.current.stageTransform).toContain('rotate(0deg) scale(-1, -1)');
    act(() => void result.current.perform('reset'));
    expect(result.current.orientation).toEqual({ rotation: 0, flipHorizontal: false, flipVertical: false });
    expect(result.current.windowLevel).toEqual(DEFAULT_WINDOW);
  });

  it('applies the window presets by their keys, keeping invert', () => {
    const { result } = renderHook(() => useViewerState(options));
    act(() => void result.current.perform('invert'));
    act(() => void result.current.perform('presetLungs'));
    expect(result.current.windowLevel).toEqual({ level: 0.35, width: 0.6, invert: true });
    act(() => void result.current.perform('presetFull'));
    expect(result.current.windowLevel).toEqual({ ...DEFAULT_WINDOW, invert: true });
  });

  it('switches the drag between panning and window/level with w', () => {
    const { result } = renderHook(() => useViewerState(options));
    expect(result.current.dragMode).toBe('pan');
    act(() => void result.current.perform('windowTool'));
    expect(result.current.dragMode).toBe('window');
    act(() => void result.current.perform('windowTool'));
    expect(result.current.dragMode).toBe('pan');
  });

  it('pans with the arrow keys only, and without room to pan (no zoom) the offset stays zero', () => {
    const { result } = renderHook(() => useViewerState(options));
    const arrow = key('ArrowLeft');
    act(() => result.current.frameHandlers.onKeyDown(arrow));
    expect(arrow.preventDefault).toHaveBeenCalled();
    expect(result.current.offset).toEqual({ x: 0, y: 0 });
    const letter = key('a');
    act(() => result.current.frameHandlers.onKeyDown(letter));
    expect(letter.preventDefault).not.toHaveBeenCalled();
  });

  it('says the image is windowed once the window changes, and reset view restores the stored window', () => {
    const { result } = renderHook(() => useViewerState(options));
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
