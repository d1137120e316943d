import { Link, NavLink, Outlet } from 'react-router';

import { DecisionSupportNotice } from '@/components/ui/decision-support-notice';
import { UntrainedModelBanner } from '@/components/ui/untrained-model-banner';
import { paths } from '@/config/paths';
import { useIsAdmin } from '@/features/auth/api/get-me';
import { SignedInUser } from '@/features/auth/components/signed-in-user';
import { SignOutButton } from '@/features/auth/components/sign-out-button';
import { useActiveModelTrained } from '@/features/health/api/get-health';
import { ServiceStatus } from '@/features/health/components/service-status';
import { useStudyEvents } from '@/features/studies/api/study-events';
import { useHasSession } from '@/lib/use-session';

function MainNavigation() {
  const isAdmin = useIsAdmin();
  return (
    <nav className="main-nav" aria-label="Main">
      <NavLink to={paths.studies} end>
        Studies
      </NavLink>
      {isAdmin && (
        <>
          <NavLink to={paths.users}>Users</NavLink>
          <NavLink to={paths.audit}>Audit log</NavLink>
          <NavLink to={paths.model}>Model</NavLink>
          <NavLink to={paths.modelVersions}>Model versions</NavLink>
          <NavLink to={paths.dicomNodes}>DICOM nodes</NavLink>
          <NavLink to={paths.acceptance}>Acceptance</NavLink>
          <NavLink to={paths.monitoring}>Monitoring</NavLink>
        </>
      )}
    </nav>
  );
}

export function AppLayout() {
  const hasSession = useHasSession();
  const activeModelTrained = useActiveModelTrained();
  // One event stream per signed-in tab keeps every study view and the worklist current.
  useStudyEvents(hasSession);

  return (
    <div className="app">
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="app-header">
        <Link to={paths.studies} className="product-name">
          CXR Decision Support
        </Link>
        {hasSession && <MainNavigation />}
        {hasSession && (
          <div className="app-header-user">
            <SignedInUser />
            <SignOutButton />
          </div>
        )}
      </header>
      {activeModelTrained === false && <UntrainedModelBanner />}
      <main className="app-main" id="main" tabIndex={-1}>
        <Outlet />
      </main>
      <footer className="app-footer">
        <DecisionSupportNotice />
        <ServiceStatus />
      </footer>
    </div>
  );
}
