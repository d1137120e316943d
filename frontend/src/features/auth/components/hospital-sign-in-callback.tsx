import { useEffect, useRef } from 'react';
import { Link } from 'react-router';

import { ErrorMessage } from '@/components/ui/error-message';
import { Loading } from '@/components/ui/loading';
import { paths } from '@/config/paths';

import { useFinishHospitalSignIn } from '../api/hospital-sign-in';

/** Where the provider sends the browser back: the code and state go to the service once. */
export function HospitalSignInCallback({ query, onSignedIn }: { query: URLSearchParams; onSignedIn: () => void }) {
  const finish = useFinishHospitalSignIn({ onSuccess: onSignedIn });
  const { mutate } = finish;
  const sent = useRef(false);
  const code = query.get('code');
  const state = query.get('state');
  const providerError = query.get('error_description') ?? query.get('error');

  useEffect(() => {
    // A code is good once: React's development double effects must not send it twice.
    if (sent.current || !code || !state || providerError) return;
    sent.current = true;
    mutate({ code, state });
  }, [code, state, providerError, mutate]);

  const problem = providerError
    ? `The hospital's sign-in provider refused: ${providerError}`
    : !code || !state
      ? "This address lacks the sign-in provider's answer."
      : null;
  return (
    <section className="sign-in-form" aria-labelledby="hospital-sign-in-heading">
      <h1 id="hospital-sign-in-heading">Hospital sign-in</h1>
      {problem && (
        <p role="alert" className="error-text">
          {problem}
        </p>
      )}
      {finish.isError && <ErrorMessage error={finish.error} />}
      {!problem && !finish.isError && <Loading label="Signing you in…" />}
      {(problem || finish.isError) && <Link to={paths.signIn}>Back to sign-in</Link>}
    </section>
  );
}
