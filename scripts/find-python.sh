#!/usr/bin/env bash
# Print the path of a Python interpreter >= 3.12 (Django 6 needs it), or explain and fail.
set -u

ok() { "$1" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' >/dev/null 2>&1; }

candidates=()
[ -n "${PYTHON:-}" ] && candidates+=("$PYTHON")
for name in python3.12 python3.13 python3.14; do
  p=$(command -v "$name" 2>/dev/null) && candidates+=("$p")
done
# pyenv: a plain python3.12 is a shim that fails while the global version is older,
# so ask pyenv for the real prefix of every installed 3.12+.
if command -v pyenv >/dev/null 2>&1; then
  for v in $(pyenv versions --bare 2>/dev/null | sort -V); do
    case "$v" in 3.1[2-9]*|3.[2-9][0-9]*) candidates+=("$(pyenv prefix "$v" 2>/dev/null)/bin/python3") ;; esac
  done
fi
for p in /usr/local/bin/python3 /usr/bin/python3 "$(command -v python3 2>/dev/null)"; do
  [ -n "$p" ] && candidates+=("$p")
done

for p in "${candidates[@]}"; do
  if [ -x "$p" ] && ok "$p"; then echo "$p"; exit 0; fi
done

cat >&2 <<'MSG'
crmadmin needs Python 3.12 or newer (Django 6 requires it), and none was found.
Install one (e.g. `apt-get install python3.12 python3.12-venv`, or `pyenv install 3.12`),
or point PYTHON at it: `make demo PYTHON=/path/to/python3.12`.
MSG
exit 1
