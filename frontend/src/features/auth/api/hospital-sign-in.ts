import { queryOptions, useMutation, useQuery } from '@tanstack/react-query';

import { api } from '@/lib/api-client';
import { tokenStore } from '@/lib/token-store';
import type { HospitalSignedIn, HospitalSignInAnswer, HospitalSignInConfig } from '@/types/api';

import { rememberEndSessionUrl } from './provider-session';

export const hospitalSignInConfigQueryOptions = () =>
  queryOptions({
    queryKey: ['hospital-sign-in'],
    queryFn: ({ signal }) => api.get<HospitalSignInConfig>('/api/auth/oidc/', { signal, auth: false }),
    staleTime: Infinity,
  });

export function useHospitalSignInConfig() {
  return useQuery(hospitalSignInConfigQueryOptions());
}

/** The provider's answer (code and state) for the service's own tokens; the flow's cookie goes along. */
export async function finishHospitalSignIn(answer: HospitalSignInAnswer): Promise<void> {
  const signedIn = await api.post<HospitalSignedIn>('/api/auth/oidc/callback/', answer, { auth: false });
  rememberEndSessionUrl(signedIn.end_session_url);
  tokenStore.setTokens(signedIn.access, signedIn.refresh);
}

export function useFinishHospitalSignIn({ onSuccess }: { onSuccess?: () => void } = {}) {
  return useMutation({ mutationFn: finishHospitalSignIn, onSuccess });
}
