import { type FormEvent, useState } from 'react';

import { ErrorMessage } from '@/components/ui/error-message';
import { Field } from '@/components/ui/field';
import { Loading } from '@/components/ui/loading';
import { Pagination } from '@/components/ui/pagination';
import type { AuditAction, AuditEvent, AuditQuery } from '@/types/api';
import { formatDateTime } from '@/utils/format';

import { useAuditEvents } from '../api/get-audit-events';
import { AUDIT_ACTION_TEXT, AUDIT_ACTIONS } from './audit-action-text';

const AUDIT_PAGE_SIZE = 20;

export type AuditFilter = Omit<AuditQuery, 'page'>;

function detailText(detail: unknown): string {
  if (typeof detail !== 'object' || detail === null) return '';
  return Object.entries(detail as Record<string, unknown>)
    .map(([key, value]) => `${key}: ${Array.isArray(value) ? value.join(', ') || '—' : String(value)}`)
    .join('; ');
}

function AuditFilters({ value, onApply }: { value: AuditFilter; onApply: (filter: AuditFilter) => void }) {
  const [draft, setDraft] = useState<AuditFilter>(value);
  const set = (patch: Partial<AuditFilter>) => setDraft((current) => ({ ...current, ...patch }));
  const handleSubmit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    onApply(draft);
  };
  return (
    <form className="filters" onSubmit={handleSubmit} aria-label="Filter the audit log">
      <Field label="Username">
        <input value={draft.actor ?? ''} onChange={(event) => set({ actor: event.target.value || undefined })} />
      </Field>
      <Field label="Action">
        <select
          value={draft.action ?? ''}
          onChange={(event) => set({ action: (event.target.value || undefined) as AuditAction | undefined })}
        >
          <option value="">All actions</option>
          {AUDIT_ACTIONS.map((action) => (
            <option key={action} value={action}>
              {AUDIT_ACTION_TEXT[action]}
            </option>
          ))}
        </select>
      </Field>
      <Field label="From">
        <input
          type="date"
          value={draft.created_after ?? ''}
          onChange={(event) => set({ created_after: event.target.value || undefined })}
        />
      </Field>
      <Field label="To">
        <input
          type="date"
          value={draft.created_before ?? ''}
          onChange={(event) => set({ created_before: event.target.value || undefined })}
        />
      </Field>
      <div className="form-actions">
        <button type="submit" className="button-primary">
          Filter
        </button>
        <button
          type="button"
          className="button-secondary"
          onClick={() => {
            setDraft({});
            onApply({});
          }}
        >
          Clear
        </button>
      </div>
    </form>
  );
}

/** "User dr.house", "Study 0b7c…": a user by their name, never "user 3". */
export function targetText(event: AuditEvent): string {
  if (!event.target_type) return '—';
  const type = event.target_type.charAt(0).toUpperCase() + event.target_type.slice(1);
  return `${type} ${event.target_username ?? event.target_id}`;
}

function AuditTable({ events }: { events: AuditEvent[] }) {
  return (
    <div className="table-scroll">
      <table aria-label="Audit events">
        <thead>
          <tr>
            <th scope="col">When</th>
            <th scope="col">Who</th>
            <th scope="col">What</th>
            <th scope="col">Target</th>
            <th scope="col">Address</th>
            <th scope="col">Details</th>
          </tr>
        </thead>
        <tbody>
          {events.map((event) => (
            <tr key={event.id}>
              <td>
                <time dateTime={event.created_at}>{formatDateTime(event.created_at)}</time>
              </td>
              <td className="name">{event.actor_username || '—'}</td>
              <td>{AUDIT_ACTION_TEXT[event.action]}</td>
              <td className="wrap">{targetText(event)}</td>
              <td>{event.ip_address ?? '—'}</td>
              <td className="wrap">{detailText(event.detail)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

type AuditLogProps = {
  page: number;
  filter: AuditFilter;
  onPageChange: (page: number) => void;
  onFilterChange: (filter: AuditFilter) => void;
};

export function AuditLog({ page, filter, onPageChange, onFilterChange }: AuditLogProps) {
  const events = useAuditEvents({ ...filter, page });
  return (
    <div className="audit-page">
      <h1>Audit log</h1>
      <p className="muted">
        Every sign-in and failed sign-in, upload, study view, download and feedback, with who, when and from which
        address. The log is append-only: nothing in the application changes or deletes it.
      </p>
      <AuditFilters key={JSON.stringify(filter)} value={filter} onApply={onFilterChange} />
      {events.isPending && <Loading label="Loading the audit log…" />}
      {events.isError && <ErrorMessage error={events.error} />}
      {events.data && (
        <>
          <p className="muted" role="status">
            {events.data.count} {events.data.count === 1 ? 'event' : 'events'}
          </p>
          {events.data.results.length > 0 && <AuditTable events={events.data.results} />}
          <Pagination
            label="Audit log pages"
            page={page}
            count={events.data.count}
            pageSize={AUDIT_PAGE_SIZE}
            hasPrevious={Boolean(events.data.previous)}
            hasNext={Boolean(events.data.next)}
            onPageChange={onPageChange}
          />
        </>
      )}
    </div>
  );
}
