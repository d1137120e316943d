import { type FormEvent, useState } from 'react';

import { ErrorMessage } from '@/components/ui/error-message';
import { Field } from '@/components/ui/field';
import type { Role } from '@/types/api';

import { useCreateUser } from '../api/manage-users';

export function CreateUserForm() {
  const [username, setUsername] = useState('');
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [role, setRole] = useState<Role>('clinician');
  const create = useCreateUser();

  const handleSubmit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    create.mutate(
      { username, email, password, role },
      {
        onSuccess: () => {
          setUsername('');
          setEmail('');
          setPassword('');
          setRole('clinician');
        },
      },
    );
  };

  return (
    <form className="card form-grid" onSubmit={handleSubmit} aria-labelledby="create-user-heading">
      <h2 id="create-user-heading">Create a user</h2>
      <Field label="Username">
        <input required autoComplete="off" value={username} onChange={(event) => setUsername(event.target.value)} />
      </Field>
      <Field label="Email (optional)">
        <input type="email" autoComplete="off" value={email} onChange={(event) => setEmail(event.target.value)} />
      </Field>
      <Field label="Initial password">
        <input
          type="password"
          required
          autoComplete="new-password"
          value={password}
          onChange={(event) => setPassword(event.target.value)}
        />
      </Field>
      <Field label="Role">
        <select value={role} onChange={(event) => setRole(event.target.value as Role)}>
          <option value="clinician">Clinician</option>
          <option value="admin">Admin</option>
        </select>
      </Field>
      {create.isError && <ErrorMessage error={create.error} />}
      <div className="form-actions">
        <button type="submit" className="button-primary" disabled={create.isPending}>
          Create user
        </button>
        <span role="status" className="muted">
          {create.isSuccess ? `Created ${create.data.username} (${create.data.role}).` : ''}
        </span>
      </div>
    </form>
  );
}
