import { useNavigate, useSearchParams } from 'react-router';

import { paths } from '@/config/paths';
import { HospitalSignInCallback } from '@/features/auth/components/hospital-sign-in-callback';
import { useDocumentTitle } from '@/hooks/use-document-title';

export function SignInCallbackRoute() {
  useDocumentTitle('Signing in');
  const [query] = useSearchParams();
  const navigate = useNavigate();
  return (
    <div className="sign-in-page">
      <HospitalSignInCallback query={query} onSignedIn={() => navigate(paths.studies, { replace: true })} />
    </div>
  );
}
