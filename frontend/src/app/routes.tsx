import type { RouteObject } from 'react-router';

import { paths } from '@/config/paths';

import { AppLayout } from './app-layout';
import {
  AcceptanceRoute,
  AuditRoute,
  DicomNodesRoute,
  ModelRoute,
  ModelVersionsRoute,
  MonitoringRoute,
  UsersRoute,
} from './routes/admin-routes';
import { NotFoundRoute } from './routes/not-found-route';
import { RequireAdmin } from './routes/require-admin';
import { RequireSession } from './routes/require-session';
import { SignInCallbackRoute } from './routes/sign-in-callback-route';
import { SignInRoute } from './routes/sign-in-route';
import { StudiesRoute } from './routes/studies-route';
import { StudyRoute } from './routes/study-route';

export const routes: RouteObject[] = [
  {
    element: <AppLayout />,
    children: [
      { path: paths.signIn, element: <SignInRoute /> },
      { path: paths.signInCallback, element: <SignInCallbackRoute /> },
      {
        element: <RequireSession />,
        children: [
          { path: paths.studies, element: <StudiesRoute /> },
          { path: '/studies/:studyId', element: <StudyRoute /> },
          {
            element: <RequireAdmin />,
            children: [
              { path: paths.users, element: <UsersRoute /> },
              { path: paths.audit, element: <AuditRoute /> },
              { path: paths.model, element: <ModelRoute /> },
              { path: paths.modelVersions, element: <ModelVersionsRoute /> },
              { path: paths.dicomNodes, element: <DicomNodesRoute /> },
              { path: paths.acceptance, element: <AcceptanceRoute /> },
              { path: paths.monitoring, element: <MonitoringRoute /> },
            ],
          },
        ],
      },
      { path: '*', element: <NotFoundRoute /> },
    ],
  },
];
