import { useNavigate } from 'react-router';

import { paths } from '@/config/paths';

import { useSignOut } from '../api/sign-out';

export function SignOutButton() {
  const navigate = useNavigate();
  // Replacing the location drops the "return to" page the session guard remembered, so
  // whoever signs in next starts on their own studies.
  const signOut = useSignOut({ onSignedOut: () => navigate(paths.signIn, { replace: true }) });
  return (
    <button type="button" className="button-secondary" disabled={signOut.isPending} onClick={() => signOut.mutate()}>
      Sign out
    </button>
  );
}
