import { Fragment, useState } from 'react';

import { ErrorMessage } from '@/components/ui/error-message';
import { Loading } from '@/components/ui/loading';
import { Pagination } from '@/components/ui/pagination';
import type { User } from '@/types/api';
import { formatDateTime } from '@/utils/format';

import { useUsers } from '../api/get-users';
import { useUpdateUser } from '../api/manage-users';
import { CreateUserForm } from './create-user-form';
import { ResetPasswordForm } from './reset-password-form';

const USERS_PAGE_SIZE = 20;

function UserRow({ user, onResetPassword }: { user: User; onResetPassword: () => void }) {
  const update = useUpdateUser();
  const action = user.is_active ? 'Deactivate' : 'Reactivate';
  return (
    <tr className={user.is_active ? undefined : 'inactive-row'}>
      <th scope="row">{user.username}</th>
      <td>{user.role === 'admin' ? 'Admin' : 'Clinician'}</td>
      <td>{user.is_active ? 'Active' : 'Deactivated'}</td>
      <td>{formatDateTime(user.last_login)}</td>
      <td>
        <div className="row-actions">
          <button
            type="button"
            className={user.is_active ? 'button-danger' : 'button-secondary'}
            aria-label={`${action} ${user.username}`}
            disabled={update.isPending}
            onClick={() => update.mutate({ id: user.id, is_active: !user.is_active })}
          >
            {action}
          </button>
          <button
            type="button"
            className="button-secondary"
            aria-label={`Reset password for ${user.username}`}
            onClick={onResetPassword}
          >
            Reset password
          </button>
        </div>
        {update.isError && <ErrorMessage error={update.error} />}
      </td>
    </tr>
  );
}

export function UsersAdmin() {
  const [page, setPage] = useState(1);
  const [resetting, setResetting] = useState<number | null>(null);
  const [notice, setNotice] = useState('');
  const users = useUsers(page);

  return (
    <div className="users-page">
      <h1>Users</h1>
      <CreateUserForm />
      <section className="card" aria-labelledby="users-heading">
        <h2 id="users-heading">All users</h2>
        <p className="muted">
          Deactivating a user ends their sessions at once; their studies and audit records stay. Reactivate them to let
          them sign in again.
        </p>
        <p role="status" className="muted">
          {notice}
        </p>
        {users.isPending && <Loading label="Loading users…" />}
        {users.isError && <ErrorMessage error={users.error} />}
        {users.data && (
          <div className="table-scroll">
            <table aria-label="Users">
              <thead>
                <tr>
                  <th scope="col">Username</th>
                  <th scope="col">Role</th>
                  <th scope="col">Status</th>
                  <th scope="col">Last sign-in</th>
                  <th scope="col">Actions</th>
                </tr>
              </thead>
              <tbody>
                {users.data.results.map((user) => (
                  <Fragment key={user.id}>
                    <UserRow
                      user={user}
                      onResetPassword={() => {
                        setNotice('');
                        setResetting(user.id);
                      }}
                    />
                    {resetting === user.id && (
                      <tr>
                        <td colSpan={5}>
                          <ResetPasswordForm
                            user={user}
                            onDone={(message) => {
                              setResetting(null);
                              setNotice(message);
                            }}
                          />
                        </td>
                      </tr>
                    )}
                  </Fragment>
                ))}
              </tbody>
            </table>
          </div>
        )}
        {users.data && (
          <Pagination
            label="Users pages"
            page={page}
            count={users.data.count}
            pageSize={USERS_PAGE_SIZE}
            hasPrevious={Boolean(users.data.previous)}
            hasNext={Boolean(users.data.next)}
            onPageChange={setPage}
          />
        )}
      </section>
    </div>
  );
}
