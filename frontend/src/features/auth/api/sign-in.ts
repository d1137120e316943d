import { useMutation } from '@tanstack/react-query';

import { api } from '@/lib/api-client';
import { tokenStore } from '@/lib/token-store';
import type { TokenPair } from '@/types/api';

export type Credentials = { username: string; password: string };

export async function signIn(credentials: Credentials): Promise<void> {
  const pair = await api.post<TokenPair>('/api/auth/token/', credentials, { auth: false });
  tokenStore.setTokens(pair.access, pair.refresh);
}

export function useSignIn({ onSuccess }: { onSuccess?: () => void } = {}) {
  return useMutation({ mutationFn: signIn, onSuccess });
}
