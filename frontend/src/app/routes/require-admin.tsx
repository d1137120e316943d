import { Outlet } from 'react-router';

import { ErrorMessage } from '@/components/ui/error-message';
import { Loading } from '@/components/ui/loading';
import { useMe } from '@/features/auth/api/get-me';

/** Admin pages: clinicians get a plain refusal (the API refuses them too). */
export function RequireAdmin() {
  const me = useMe();
  if (me.isPending) return <Loading />;
  if (me.isError) return <ErrorMessage error={me.error} />;
  if (me.data.role !== 'admin') {
    return (
      <div>
        <h1>Admins only</h1>
        <p>This page is for administrators.</p>
      </div>
    );
  }
  return <Outlet />;
}
