#!/usr/bin/env bash
# Starts the service in the foreground: gunicorn, plus the Celery workers and Celery beat (which runs the
# reconciler of stuck studies, studies/reconciliation.py) when a broker is configured, and the DICOM
# listener when CXR_DICOM_PORT is set.
# Called by `make run`, after migrations; HOST, PORT and PY come from the Makefile.
set -euo pipefail
cd "$(dirname "$0")"

# Let the address the service is bound to reach it, beside localhost.
export DJANGO_ALLOWED_HOSTS="${DJANGO_ALLOWED_HOSTS:-localhost,127.0.0.1,[::1],${HOST}}"

if [ -n "${REDIS_URL:-}" ]; then
  # Beat runs beside the worker (exactly one beat per deployment; docker-compose.yml runs it as a
  # service of its own), its schedule file in CXR_VAR_DIR (CELERY_BEAT_SCHEDULE_FILENAME).
  # The findings worker and the analysers' worker (workers.sh).
  PY="$PY" ./workers.sh &
  worker_pid=$!
  "$PY" -m celery -A config beat --loglevel=INFO &
  beat_pid=$!
  trap 'kill "$worker_pid" "$beat_pid" 2>/dev/null; wait 2>/dev/null' EXIT
  web_workers="${WEB_CONCURRENCY:-2}"
  mode="PostgreSQL/Redis with Celery workers (findings, analysers) and beat"
else
  # Embedded mode analyses in threads of the web process (the findings in one, the analysers in
  # another, studies/dispatch.py): one process holds the models in memory, and its in-process event
  # hub reaches only the streams that this same process serves.
  web_workers=1
  mode="embedded (SQLite, in-process analyses, local-memory cache)"
fi

# The DICOM listener (pacs app), when a port is configured for it.
if [ "${CXR_DICOM_PORT:-0}" != "0" ]; then
  "$PY" manage.py dicom_listener &
  listener_pid=$!
fi

echo "Serving on http://${HOST}:${PORT} in ${mode} mode. Stop with Ctrl-C."
CXR_WEB_BIND="${HOST}:${PORT}" WEB_CONCURRENCY="$web_workers" \
  "$(dirname "$PY")/gunicorn" -c config/gunicorn.conf.py &
web_pid=$!
trap 'kill "$web_pid" ${worker_pid:-} ${beat_pid:-} ${listener_pid:-} 2>/dev/null; wait' EXIT INT TERM
wait "$web_pid"
