// The access token lives only in memory (it is short-lived and a reload can mint a
// new one); the refresh token is kept in localStorage so a reload keeps the session.
const REFRESH_TOKEN_KEY = 'cxr.refreshToken';

type Listener = () => void;

export type TokenStore = {
  getAccessToken: () => string | null;
  getRefreshToken: () => string | null;
  setTokens: (access: string, refresh: string) => void;
  clear: () => void;
  subscribe: (listener: Listener) => () => void;
};

function readStoredRefreshToken(): string | null {
  try {
    return window.localStorage.getItem(REFRESH_TOKEN_KEY);
  } catch {
    return null;
  }
}

function writeStoredRefreshToken(token: string | null): void {
  try {
    if (token === null) window.localStorage.removeItem(REFRESH_TOKEN_KEY);
    else window.localStorage.setItem(REFRESH_TOKEN_KEY, token);
  } catch {
    // Storage can be unavailable (private mode, quota); the session then lasts until reload.
  }
}

export function createTokenStore(): TokenStore {
  let accessToken: string | null = null;
  let refreshToken: string | null = readStoredRefreshToken();
  const listeners = new Set<Listener>();

  const notify = () => listeners.forEach((listener) => listener());

  // Another tab rotated the refresh token (the old one is now blacklisted) or signed out:
  // follow it, so this tab neither refreshes with a dead token nor stays signed in.
  window.addEventListener('storage', (event) => {
    if (event.key !== REFRESH_TOKEN_KEY && event.key !== null) return;
    const stored = readStoredRefreshToken();
    if (stored === refreshToken) return;
    refreshToken = stored;
    if (stored === null) accessToken = null;
    notify();
  });

  return {
    getAccessToken: () => accessToken,
    getRefreshToken: () => refreshToken,
    setTokens(access, refresh) {
      accessToken = access;
      refreshToken = refresh;
      writeStoredRefreshToken(refresh);
      notify();
    },
    clear() {
      if (accessToken === null && refreshToken === null) return;
      accessToken = null;
      refreshToken = null;
      writeStoredRefreshToken(null);
      notify();
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}

export const tokenStore = createTokenStore();
