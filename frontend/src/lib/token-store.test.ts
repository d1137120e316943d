import { describe, expect, it, vi } from 'vitest';

import { createTokenStore } from './token-store';

describe('token store', () => {
  it('keeps the access token in memory only and the refresh token in localStorage', () => {
    const tokens = createTokenStore();
    tokens.setTokens('access-1', 'refresh-1');

    expect(window.localStorage.getItem('cxr.refreshToken')).toBe('refresh-1');
    expect(JSON.stringify(window.localStorage)).not.toContain('access-1');

    const afterReload = createTokenStore();
    expect(afterReload.getAccessToken()).toBeNull();
    expect(afterReload.getRefreshToken()).toBe('refresh-1');
  });

  it('follows a sign-out in another tab', () => {
    const tokens = createTokenStore();
    tokens.setTokens('access-1', 'refresh-1');
    const listener = vi.fn();
    tokens.subscribe(listener);

    window.localStorage.removeItem('cxr.refreshToken');
    window.dispatchEvent(new StorageEvent('storage', { key: 'cxr.refreshToken', newValue: null }));

    expect(tokens.getRefreshToken()).toBeNull();
    expect(tokens.getAccessToken()).toBeNull();
    expect(listener).toHaveBeenCalledOnce();
  });
});
