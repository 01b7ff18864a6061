# Two commands on a fresh machine: `make demo` and `make test`. Everything else is a step of theirs.
SHELL := /bin/bash
VENV := .venv
STAMP := $(VENV)/.installed-stamp
PYTHON ?=

.PHONY: demo test bench load install lock audit lint format clean

demo: $(STAMP)
	scripts/demo.sh

test: $(STAMP)
	scripts/test.sh

# The benchmark and load test of a 50,000-record job (scripts/bench.py); BENCH_ARGS passes
# options, e.g. make bench BENCH_ARGS="--records 10000 --latencies 0.5".
bench: $(STAMP)
	$(VENV)/bin/python scripts/bench.py $(BENCH_ARGS)

load: $(STAMP)
	$(VENV)/bin/python scripts/bench.py --load-only $(BENCH_ARGS)

install: $(STAMP)

# Every package, transitive ones included, is pinned in requirements.lock (used as constraints).
$(STAMP): pyproject.toml requirements.lock
	@py=$$(PYTHON="$(PYTHON)" scripts/find-python.sh) && \
	  { [ -x $(VENV)/bin/python ] && $(VENV)/bin/python -c 'import sys; sys.exit(sys.version_info < (3, 12))' \
	    || { echo "Creating $(VENV) with $$py"; rm -rf $(VENV); "$$py" -m venv $(VENV); }; }
	$(VENV)/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(VENV)/bin/python -m pip install --quiet --disable-pip-version-check -c requirements.lock -e '.[dev]'
	@touch $(STAMP)

# After changing a version in pyproject.toml: install it, then write the lock from the venv.
lock:
	$(VENV)/bin/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	{ sed -n '1,2p' requirements.lock; $(VENV)/bin/python -m pip freeze --exclude-editable; } > requirements.lock.new
	mv requirements.lock.new requirements.lock

# Known vulnerabilities in the pinned packages (make test runs it first).
audit: $(STAMP)
	$(VENV)/bin/python scripts/audit_deps.py requirements.lock

lint: $(STAMP)
	$(VENV)/bin/ruff check . && $(VENV)/bin/ruff format --check .

format: $(STAMP)
	$(VENV)/bin/ruff format . && $(VENV)/bin/ruff check --fix .

clean:
	rm -rf $(VENV) var staticfiles
