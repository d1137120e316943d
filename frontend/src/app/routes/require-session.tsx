import { Navigate, Outlet, useLocation } from 'react-router';

import { paths } from '@/config/paths';
import { useHasSession } from '@/lib/use-session';

/** Sends visitors without a session (or whose refresh failed) to sign-in, remembering where they were. */
export function RequireSession() {
  const hasSession = useHasSession();
  const location = useLocation();
  if (!hasSession) return <Navigate to={paths.signIn} replace state={{ from: location }} />;
  return <Outlet />;
}
