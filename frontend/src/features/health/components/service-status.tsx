import { useHealth } from '../api/get-health';

/** A compact line in the footer: which model answers, and whether every service is up. */
export function ServiceStatus() {
  const health = useHealth();
  if (!health.data) return null;
  const { status, checks } = health.data;
  const failing = Object.entries(checks)
    .filter(([, check]) => !check.ok)
    .map(([name]) => name);
  return (
    <p className="service-status">
      Model {checks.model.name} {checks.model.version} ({checks.model.trained ? 'trained' : 'untrained'})
      {' · '}
      {status === 'ok' ? 'All services up' : `Degraded: ${failing.join(', ') || 'unknown'}`}
    </p>
  );
}
