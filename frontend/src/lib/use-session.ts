import { useSyncExternalStore } from 'react';

import { tokenStore } from './token-store';

/** True while a refresh token is held, i.e. the user has a session that can mint access tokens. */
export function useHasSession(): boolean {
  return useSyncExternalStore(tokenStore.subscribe, () => tokenStore.getRefreshToken() !== null);
}
