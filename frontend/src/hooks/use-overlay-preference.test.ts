import { act, renderHook } from '@testing-library/react';
import { describe, expect, it } from 'vitest';

import { useOverlayPreference } from './use-overlay-preference';

describe('useOverlayPreference', () => {
  it('follows the default until the person chooses, and stores nothing for a default', () => {
    const untrained = renderHook(() => useOverlayPreference('heatmap', false));
    expect(untrained.result.current[0]).toBe(false);
    const trained = renderHook(() => useOverlayPreference('heatmap', true));
    expect(trained.result.current[0]).toBe(true);
    expect(window.localStorage.getItem('cxr.overlay.heatmap')).toBeNull();
  });

  it('remembers the person\'s choice across loads, over the default', () => {
    const first = renderHook(() => useOverlayPreference('anatomy-outlines', false));
    act(() => first.result.current[1](true));
    expect(first.result.current[0]).toBe(true);
    first.unmount();
    const reloaded = renderHook(() => useOverlayPreference('anatomy-outlines', false));
    expect(reloaded.result.current[0]).toBe(true);
    act(() => reloaded.result.current[1](false));
    const trainedReloaded = renderHook(() => useOverlayPreference('anatomy-outlines', true));
    expect(trainedReloaded.result.current[0]).toBe(false);
  });
});
