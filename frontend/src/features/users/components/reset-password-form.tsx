import { type FormEvent, useId, useState } from 'react';

import { ErrorMessage } from '@/components/ui/error-message';
import type { User } from '@/types/api';

import { useResetPassword } from '../api/manage-users';

export function ResetPasswordForm({ user, onDone }: { user: User; onDone: (message: string) => void }) {
  const [password, setPassword] = useState('');
  const reset = useResetPassword();
  const inputId = useId();

  const handleSubmit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    reset.mutate(
      { id: user.id, password },
      { onSuccess: () => onDone(`New password set for ${user.username}; their sessions have ended.`) },
    );
  };

  return (
    <form className="inline-form" onSubmit={handleSubmit}>
      <label htmlFor={inputId}>New password for {user.username}</label>
      <input
        id={inputId}
        type="password"
        required
        autoComplete="new-password"
        value={password}
        onChange={(event) => setPassword(event.target.value)}
      />
      <button type="submit" className="button-primary" disabled={reset.isPending}>
        Set password
      </button>
      <button type="button" className="button-secondary" onClick={() => onDone('')}>
        Cancel
      </button>
      {reset.isError && <ErrorMessage error={reset.error} />}
    </form>
  );
}
