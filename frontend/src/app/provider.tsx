import { QueryClientProvider } from '@tanstack/react-query';
import { type ReactNode, useEffect, useState } from 'react';

import { createQueryClient } from '@/lib/query-client';
import { tokenStore } from '@/lib/token-store';

export function AppProvider({ children }: { children: ReactNode }) {
  const [queryClient] = useState(createQueryClient);

  // When the session ends (sign-out, or a refresh the server refused) drop everything
  // fetched for that user, so the next user to sign in on this device never sees it.
  useEffect(
    () =>
      tokenStore.subscribe(() => {
        if (tokenStore.getRefreshToken() === null) {
          queryClient.removeQueries({ predicate: (query) => query.queryKey[0] !== 'health' });
        }
      }),
    [queryClient],
  );

  return <QueryClientProvider client={queryClient}>{children}</QueryClientProvider>;
}
