import { render } from '@testing-library/react';
import type { ReactElement } from 'react';
import { createMemoryRouter, RouterProvider } from 'react-router';

import { AppProvider } from '@/app/provider';
import { routes } from '@/app/routes';
import { tokenStore } from '@/lib/token-store';

export function signInForTest() {
  tokenStore.setTokens('access-1', 'refresh-1');
}

/** Renders the whole app (providers, layout, routes) at a path, as a browser would. */
export function renderApp(path: string) {
  const router = createMemoryRouter(routes, { initialEntries: [path] });
  const view = render(
    <AppProvider>
      <RouterProvider router={router} />
    </AppProvider>,
  );
  return { ...view, router };
}

/** Renders one component with a fresh query client, inside a router for its links. */
export function renderWithProvider(ui: ReactElement) {
  const router = createMemoryRouter([{ path: '*', element: ui }]);
  return render(
    <AppProvider>
      <RouterProvider router={router} />
    </AppProvider>,
  );
}
