#!/usr/bin/env bash
# Runs a command (the browser tests) against the whole service: a fresh PostgreSQL database,
# gunicorn serving the built web app and the API, and the Celery workers (findings, analysers) and beat
# on Redis, with hospital sign-in through a real OpenID provider and a real LDAP directory.
# Needs PY (the project's Python), DATABASE_ADMIN_URL (a PostgreSQL URL to create databases from)
# and REDIS_URL; `make test-e2e` sets them.
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
: "${PY:?PY must name the project Python}" "${DATABASE_ADMIN_URL:?}" "${REDIS_URL:?}"

run_id="e2e-$$"
database="cxr_${run_id//-/_}"
work=$(mktemp -d)
port=$("$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

export DATABASE_URL="${DATABASE_ADMIN_URL%/*}/$database"
export CXR_VAR_DIR="$work" DJANGO_STATIC_ROOT="$work/static"
export CXR_TASK_QUEUE="cxr-$run_id" CXR_CACHE_PREFIX="cxr-$run_id"
export E2E_BASE_URL="http://127.0.0.1:$port" E2E_USERNAME="e2e-clinician" E2E_PASSWORD="e2e-$RANDOM-passphrase"
export E2E_ADMIN_USERNAME="e2e-admin" E2E_ADMIN_PASSWORD="e2e-$RANDOM-admin-passphrase"
export E2E_RADIOGRAPH="${E2E_RADIOGRAPH:-$repo/../shared/data/cxr/nih/00030012_000.png}"

admin_sql() {
  "$PY" -c 'import sys, psycopg
with psycopg.connect(sys.argv[1], autocommit=True) as connection:
    connection.execute(sys.argv[2])' "$DATABASE_ADMIN_URL" "$1"
}

pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  admin_sql "DROP DATABASE IF EXISTS $database" || true
  rm -rf "$work"
}
trap cleanup EXIT

admin_sql "DROP DATABASE IF EXISTS $database"
admin_sql "CREATE DATABASE $database"
cd "$repo/backend"

# The hospital's OpenID provider (backend/tests/oidc_provider: django-oauth-toolkit), its own process
# on its own port, named localhost so that its cookies are not the service's (127.0.0.1). The
# service signs its clinician in through it ("Sign in with your hospital").
provider_port=$("$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
export E2E_OIDC_USERNAME="e2e-hospital-clinician" E2E_OIDC_PASSWORD="e2e-$RANDOM-directory-passphrase"
export CXR_OIDC_ISSUER="http://localhost:$provider_port/o" CXR_OIDC_CLIENT_ID="cxr-e2e"
export CXR_OIDC_CLIENT_SECRET="e2e-$RANDOM-$RANDOM-client-secret"
export CXR_OIDC_REDIRECT_URI="$E2E_BASE_URL/sign-in/callback" CXR_OIDC_POST_LOGOUT_REDIRECT_URI="$E2E_BASE_URL/sign-in"
OIDC_PROVIDER_PORT="$provider_port" OIDC_PROVIDER_HOST=localhost OIDC_PROVIDER_DATABASE="$work/provider.sqlite3" \
  OIDC_PROVIDER_CLIENT_ID="$CXR_OIDC_CLIENT_ID" OIDC_PROVIDER_CLIENT_SECRET="$CXR_OIDC_CLIENT_SECRET" \
  OIDC_PROVIDER_REDIRECT_URIS="$CXR_OIDC_REDIRECT_URI" OIDC_PROVIDER_POST_LOGOUT_REDIRECT_URIS="$CXR_OIDC_POST_LOGOUT_REDIRECT_URI" \
  OIDC_PROVIDER_USERS="[{\"username\": \"$E2E_OIDC_USERNAME\", \"password\": \"$E2E_OIDC_PASSWORD\", \"groups\": [\"cxr-clinician\"]}]" \
  "$PY" -m tests.oidc_provider.serve >"$work/oidc-provider.log" 2>&1 &
pids+=($!)
# The hospital's LDAP directory (Debian's slapd, backend/tests/hospital_directory.py), its own process
# on its own port: the ordinary sign-in form takes its users' passwords too.
directory_port=$("$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
eval "$(DJANGO_SETTINGS_MODULE=config.settings "$PY" -m tests.hospital_directory environment "$directory_port")"
DJANGO_SETTINGS_MODULE=config.settings "$PY" -m tests.hospital_directory serve "$work/directory" "$directory_port" \
  >"$work/directory.log" 2>&1 &
pids+=($!)
"$PY" manage.py migrate --noinput --verbosity 0
"$PY" manage.py collectstatic --noinput --verbosity 0
"$PY" manage.py shell -c "from accounts.models import User; User.objects.create_user('$E2E_USERNAME', password='$E2E_PASSWORD'); User.objects.create_user('$E2E_ADMIN_USERNAME', password='$E2E_ADMIN_PASSWORD', is_staff=True)"

# A candidate model the operator installed (trained weights of the seeded network: a threshold profile
# needs a weights hash) and a site profile for it, for the model-versions spec; the active model stays
# the boot default, so the other specs see the untrained model they expect.
export E2E_CANDIDATE_WEIGHTS="$work/candidate-weights" E2E_PROFILE_DIR="$work/profiles"
"$PY" - <<'PYTHON'
import os
from pathlib import Path

from ml.classifier.engine import InferenceEngine
from ml.classifier.threshold_profile import profile_write

card = InferenceEngine.load(None, backend="keras").save(
    os.environ["E2E_CANDIDATE_WEIGHTS"], trained=True, name="e2e-candidate", version="2.0.0"
)
card = card.describe(os.environ["E2E_CANDIDATE_WEIGHTS"])
profile_write(
    Path(os.environ["E2E_PROFILE_DIR"]), name="e2e-site", card=card, rule="sensitivity ≥ 0.9",
    thresholds={"Mass": 0.25}, evidence={"cases": 40},
)
PYTHON
"$PY" manage.py model_version_install "$E2E_CANDIDATE_WEIGHTS" >/dev/null

# The findings worker and the analysers' worker, as every deployment runs them (backend/workers.sh).
for role in findings analysers; do
  "$PY" -m celery -A config worker --role "$role" --hostname "$role-$run_id@%h" --loglevel=WARNING \
    --concurrency=1 --without-mingle --without-gossip >"$work/worker-$role.log" 2>&1 &
  pids+=($!)
done
# Beat runs the reconciler of stuck studies, as in production; its schedule file goes in $work.
"$PY" -m celery -A config beat --loglevel=WARNING >"$work/beat.log" 2>&1 &
pids+=($!)
CXR_WEB_BIND="127.0.0.1:$port" WEB_CONCURRENCY=2 "$(dirname "$PY")/gunicorn" -c config/gunicorn.conf.py \
  >"$work/web.log" 2>&1 &
pids+=($!)

for url in "$E2E_BASE_URL/api/health/" "$CXR_OIDC_ISSUER/.well-known/openid-configuration"; do
  for _ in $(seq 1 60); do
    if "$PY" -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=2)' "$url" 2>/dev/null; then
      break
    fi
    sleep 1
  done
done

"$PY" -c 'import socket, sys, time
for _ in range(60):
    with socket.socket() as probe:
        if probe.connect_ex(("127.0.0.1", int(sys.argv[1]))) == 0:
            break
    time.sleep(1)' "$directory_port"

cd "$repo"
status=0
"$@" || status=$?
if [ "$status" -ne 0 ]; then
  echo "--- web log (tail)"; tail -n 40 "$work/web.log"
  echo "--- OpenID provider log (tail)"; tail -n 40 "$work/oidc-provider.log"
  echo "--- LDAP directory log (tail)"; tail -n 40 "$work/directory.log"
  for role in findings analysers; do echo "--- $role worker log (tail)"; tail -n 40 "$work/worker-$role.log"; done
fi
exit "$status"
