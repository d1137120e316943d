import { Link, Outlet } from 'react-router';

import { DecisionSupportNotice } from '@/components/ui/decision-support-notice';
import { UntrainedModelBanner } from '@/components/ui/untrained-model-banner';
import { paths } from '@/config/paths';
import { SignedInUser } from '@/features/auth/components/signed-in-user';
import { SignOutButton } from '@/features/auth/components/sign-out-button';
import { useActiveModelTrained } from '@/features/health/api/get-health';
import { ServiceStatus } from '@/features/health/components/service-status';
import { useHasSession } from '@/lib/use-session';

export function AppLayout() {
  const hasSession = useHasSession();
  const activeModelTrained = useActiveModelTrained();

  return (
    <div className="app">
      <header className="app-header">
        <Link to={paths.studies} className="product-name">
          CXR Decision Support
        </Link>
        {hasSession && (
          <div className="app-header-user">
            <SignedInUser />
            <SignOutButton />
          </div>
        )}
      </header>
      {activeModelTrained === false && <UntrainedModelBanner />}
      <main className="app-main">
        <Outlet />
      </main>
      <footer className="app-footer">
        <DecisionSupportNotice />
        <ServiceStatus />
      </footer>
    </div>
  );
}
