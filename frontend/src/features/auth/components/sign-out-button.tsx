import { useNavigate } from 'react-router';

import { paths } from '@/config/paths';

import { useSignOut } from '../api/sign-out';

export function SignOutButton() {
  const navigate = useNavigate();
  const signOut = useSignOut({
    onSignedOut: (endSessionUrl) => {
      // Signed in by the hospital's provider: end its session too, or the next "Sign in with your
      // hospital" on this computer would sign the same person in without a password. The provider
      // sends the browser back to the sign-in page.
      if (endSessionUrl) window.location.assign(endSessionUrl);
      // Replacing the location drops the "return to" page the session guard remembered, so
      // whoever signs in next starts on their own studies.
      else navigate(paths.signIn, { replace: true });
    },
  });
  return (
    <button type="button" className="button-secondary" disabled={signOut.isPending} onClick={() => signOut.mutate()}>
      Sign out
    </button>
  );
}
