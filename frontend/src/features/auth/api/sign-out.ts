import { useMutation } from '@tanstack/react-query';

import { api } from '@/lib/api-client';
import { tokenStore } from '@/lib/token-store';

import { takeEndSessionUrl } from './provider-session';

/** Ends the service's session; returns where to end the hospital provider's too, if it signed the user in. */
export async function signOut(): Promise<string | null> {
  const refresh = tokenStore.getRefreshToken();
  try {
    // The blacklist endpoint needs only the refresh token; sending no bearer token avoids
    // a refresh (and a token rotation) just to sign out.
    if (refresh) await api.post('/api/auth/token/blacklist/', { refresh }, { auth: false });
  } catch {
    // Sign out locally even when the server could not be reached or refused the token.
  } finally {
    tokenStore.clear();
  }
  return takeEndSessionUrl();
}

export function useSignOut({ onSignedOut }: { onSignedOut?: (endSessionUrl: string | null) => void } = {}) {
  return useMutation({ mutationFn: signOut, onSettled: (endSessionUrl) => onSignedOut?.(endSessionUrl ?? null) });
}
