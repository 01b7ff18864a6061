"""Fixtures of the browser tests that watch a real worker do a mass update."""

from collections.abc import Iterator
from contextlib import contextmanager
from subprocess import Popen

import pytest

from crmadmin.sandbox import faults

# Slow enough that the progress of a preview or a run is seen under way.
SANDBOX_LATENCY = 0.3


@pytest.fixture
def slow_sandbox(transactional_db) -> Iterator[None]:
    """Every sandbox API call takes SANDBOX_LATENCY seconds, until the test ends."""
    faults.configure(latency=SANDBOX_LATENCY)
    yield
    faults.reset()


@contextmanager
def worker_log_on_failure(worker: Popen) -> Iterator[None]:
    """Print the worker's log (shown by pytest with the failure) if the block fails."""
    try:
        yield
    except BaseException:
        print(f"--- celery worker log ({worker.log_path}) ---\n{worker.log_path.read_text()}")
        raise
