import { type Location, Navigate, useLocation, useNavigate } from 'react-router';

import { paths } from '@/config/paths';
import { HospitalSignInLink } from '@/features/auth/components/hospital-sign-in-link';
import { SignInForm } from '@/features/auth/components/sign-in-form';
import { useHasSession } from '@/lib/use-session';
import { useDocumentTitle } from '@/hooks/use-document-title';

function returnPath(state: unknown): string {
  const from = (state as { from?: Location } | null)?.from;
  if (!from || from.pathname === paths.signIn) return paths.studies;
  return `${from.pathname}${from.search}`;
}

export function SignInRoute() {
  useDocumentTitle('Sign in');
  const hasSession = useHasSession();
  const location = useLocation();
  const navigate = useNavigate();
  const target = returnPath(location.state);

  if (hasSession) return <Navigate to={target} replace />;
  return (
    <div className="sign-in-page">
      <HospitalSignInLink />
      <SignInForm onSuccess={() => navigate(target, { replace: true })} />
    </div>
  );
}
