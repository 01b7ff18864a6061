#!/usr/bin/env bash
# `make demo`: the dashboard on the embedded defaults (SQLite, a broker on the file system,
# the built-in CRM sandbox with demo data and demo logins). Ctrl-C stops everything.
set -euo pipefail
cd "$(dirname "$0")/.."

export PATH="$PWD/.venv/bin:$PATH"
export CRMADMIN_DEMO=1
# The pages as a user sees them: crmadmin's own error pages, never a debug page with a
# traceback (DJANGO_DEBUG=1 make demo brings Django's debug pages back).
export DJANGO_DEBUG=${DJANGO_DEBUG:-0}
export HOST=${HOST:-127.0.0.1}
export PORT=${PORT:-8000}
BASE_URL="http://$HOST:$PORT"

python manage.py migrate --noinput -v 0
python manage.py collectstatic --noinput -v 0
python manage.py seed_demo --base-url "$BASE_URL"

# Once the web server answers, test the sandbox connection so the Connections page shows it working.
(
  for _ in $(seq 1 60); do
    if python -c "import urllib.request,sys; urllib.request.urlopen('$BASE_URL/login/', timeout=1)" 2>/dev/null; then
      python manage.py check_connections || true
      exit 0
    fi
    sleep 1
  done
) &

cat <<MSG

  crmadmin is starting at  $BASE_URL/

  Demo logins (password for all: crmadmin-demo)
    operator    an operator (sales ops)
    operator2   another operator
    manager     a manager (approvals, audit, connections)
    admin       an administrator (Django admin)

  The built-in CRM sandbox answers at $BASE_URL/sandbox/  (Ctrl-C stops everything)

MSG
exec honcho -f Procfile.demo start
