#!/usr/bin/env bash
# Starts the two Celery workers of a deployment in the foreground and stops both together:
# `--role findings` (the study queue: the classifier's findings, explanations, the reconciler) and
# `--role analysers` (the analysers beside the classifier, on a queue of their own), so that a
# study's findings never wait behind another study's analysers (config/celery_app.py).
# Called by `make worker` and backend/serve.sh; PY names the project's Python. Each worker runs
# CXR_WORKER_CONCURRENCY processes (default 1).
set -euo pipefail
cd "$(dirname "$0")"
: "${PY:?PY must name the project Python}"

pids=()
for role in findings analysers; do
  "$PY" -m celery -A config worker --role "$role" --hostname "$role@%h" --loglevel=INFO \
    --concurrency="${CXR_WORKER_CONCURRENCY:-1}" &
  pids+=($!)
done
# Stopping this script stops both workers (a warm shutdown: SIGTERM) and waits for them.
trap 'kill "${pids[@]}" 2>/dev/null || true; wait || true' EXIT INT TERM
# Either worker ending ends the other, and this script with its status, so that a supervisor sees
# the pair stop and restarts it.
wait -n
