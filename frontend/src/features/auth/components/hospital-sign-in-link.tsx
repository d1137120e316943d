import { paths } from '@/config/paths';

import { useHospitalSignInConfig } from '../api/hospital-sign-in';

/** "Sign in with your hospital", where the service is configured for it. A link, not a fetch: the
 * browser goes to the service, which sends it on to the provider's sign-in page. */
export function HospitalSignInLink() {
  const config = useHospitalSignInConfig();
  if (!config.data?.enabled) return null;
  return (
    <div className="hospital-sign-in">
      <a className="button-primary" href={paths.hospitalSignInStart}>
        Sign in with {config.data.provider_name}
      </a>
      <p className="muted">Or with a local account of this service:</p>
    </div>
  );
}
