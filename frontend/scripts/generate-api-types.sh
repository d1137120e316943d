#!/usr/bin/env bash
# Writes the web app's API types, generated from the backend's OpenAPI schema, to the file named by
# $1 (`make api-types` writes src/types/api.generated.ts; `make check-api-types` writes a temporary
# file and compares). Needs PY, the project's Python.
set -euo pipefail
out=${1:?usage: generate-api-types.sh OUTPUT.ts}
frontend=$(cd "$(dirname "$0")/.." && pwd)
: "${PY:?PY must name the project Python}"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# The schema does not depend on the database or the cache; embedded settings keep it that way.
(cd "$frontend/../backend" && env -u DATABASE_URL -u REDIS_URL CXR_VAR_DIR="$work/var" \
  "$PY" manage.py spectacular --file "$work/schema.yaml" --validate --fail-on-warn)
"$frontend/node_modules/.bin/openapi-typescript" "$work/schema.yaml" --output "$work/api.ts" >/dev/null
{
  echo "// Generated from the backend's OpenAPI schema (/api/schema/) by \`make api-types\`: do not edit."
  echo "// \`make lint\` (and so \`make test\`) fails when this file is out of date."
  echo
  cat "$work/api.ts"
} >"$out"
