#!/usr/bin/env bash
# The whole suite, as `make test` runs it: lint, then every test on SQLite and again on a
# real PostgreSQL that this script starts and stops. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/system-deps.sh
export PATH="$PWD/.venv/bin:$PATH"

echo "== dependency audit (fails on a known vulnerability)"
python scripts/audit_deps.py requirements.lock

echo "== ruff"
ruff check .
ruff format --check .

echo "== tests on SQLite"
env -u DATABASE_URL pytest "$@"

echo "== tests on PostgreSQL"
trap 'scripts/pg.sh stop' EXIT
DATABASE_URL=$(scripts/pg.sh start) pytest "$@"
