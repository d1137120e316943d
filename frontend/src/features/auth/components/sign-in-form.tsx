import { type FormEvent, useState } from 'react';

import { ErrorMessage } from '@/components/ui/error-message';

import { useSignIn } from '../api/sign-in';

export function SignInForm({ onSuccess }: { onSuccess?: () => void }) {
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const signIn = useSignIn({ onSuccess });

  const handleSubmit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    signIn.mutate({ username, password });
  };

  return (
    <form className="sign-in-form" onSubmit={handleSubmit} aria-labelledby="sign-in-heading">
      <h1 id="sign-in-heading">Sign in</h1>
      <label htmlFor="sign-in-username">Username</label>
      <input
        id="sign-in-username"
        name="username"
        autoComplete="username"
        required
        value={username}
        onChange={(event) => setUsername(event.target.value)}
      />
      <label htmlFor="sign-in-password">Password</label>
      <input
        id="sign-in-password"
        name="password"
        type="password"
        autoComplete="current-password"
        required
        value={password}
        onChange={(event) => setPassword(event.target.value)}
      />
      {signIn.isError && <ErrorMessage error={signIn.error} />}
      <button type="submit" className="button-primary" disabled={signIn.isPending} aria-busy={signIn.isPending}>
        Sign in
      </button>
    </form>
  );
}
