import { useSearchParams } from 'react-router';

import { AuditLog, type AuditFilter } from '@/features/audit/components/audit-log';
import { ModelOverview } from '@/features/model/components/model-overview';
import { ModelVersions } from '@/features/model-versions/components/model-versions';
import { AcceptancePage } from '@/features/monitoring/components/acceptance-page';
import { MonitoringPage } from '@/features/monitoring/components/monitoring-page';
import { DicomNodes } from '@/features/pacs/components/dicom-nodes';
import { UsersAdmin } from '@/features/users/components/users-admin';
import { useDocumentTitle } from '@/hooks/use-document-title';

export function UsersRoute() {
  useDocumentTitle('Users');
  return <UsersAdmin />;
}

export function ModelRoute() {
  useDocumentTitle('Model');
  return <ModelOverview />;
}

export function ModelVersionsRoute() {
  return <ModelVersions />;
}

export function AcceptanceRoute() {
  return <AcceptancePage />;
}

export function MonitoringRoute() {
  return <MonitoringPage />;
}

export function DicomNodesRoute() {
  useDocumentTitle('DICOM nodes');
  return <DicomNodes />;
}

const AUDIT_FILTER_KEYS = ['actor', 'action', 'created_after', 'created_before'] as const;

export function AuditRoute() {
  useDocumentTitle('Audit log');
  const [searchParams, setSearchParams] = useSearchParams();
  const page = Math.max(1, Number(searchParams.get('page')) || 1);
  const filter = Object.fromEntries(
    AUDIT_FILTER_KEYS.flatMap((key) => {
      const value = searchParams.get(key);
      return value ? [[key, value]] : [];
    }),
  ) as AuditFilter;

  const update = (nextPage: number, nextFilter: AuditFilter) => {
    const params = new URLSearchParams();
    for (const key of AUDIT_FILTER_KEYS) {
      const value = nextFilter[key];
      if (value) params.set(key, value);
    }
    if (nextPage > 1) params.set('page', String(nextPage));
    setSearchParams(params);
  };

  return (
    <AuditLog
      page={page}
      filter={filter}
      onPageChange={(nextPage) => update(nextPage, filter)}
      onFilterChange={(nextFilter) => update(1, nextFilter)}
    />
  );
}
