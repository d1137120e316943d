import { useMe } from '../api/get-me';

export function SignedInUser() {
  const me = useMe();
  if (!me.data) return null;
  return (
    <span className="signed-in-user">
      Signed in as <strong>{me.data.username}</strong>
      {me.data.role === 'admin' && <span className="tag">admin</span>}
    </span>
  );
}
