# Two commands on a fresh machine: `make demo` and `make test`. Everything else is a step of theirs.
SHELL := /bin/bash
VENV := .venv
STAMP := $(VENV)/.installed-stamp
PYTHON ?=

.PHONY: demo test bench load install lint format clean

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

$(STAMP): pyproject.toml
	@py=$$(PYTHON="$(PYTHON)" scripts/find-python.sh) && \
	  { [ -x $(VENV)/bin/python ] && $(VENV)/bin/python -c 'import sys; sys.exit(sys.version_info < (3, 12))' \
	    || { echo "Creating $(VENV) with $$py"; rm -rf $(VENV); "$$py" -m venv $(VENV); }; }
	$(VENV)/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(VENV)/bin/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	@touch $(STAMP)

lint: $(STAMP)
	$(VENV)/bin/ruff check . && $(VENV)/bin/ruff format --check .

format: $(STAMP)
	$(VENV)/bin/ruff format . && $(VENV)/bin/ruff check --fix .

clean:
	rm -rf $(VENV) var staticfiles
