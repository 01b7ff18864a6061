import logging
import os
from pathlib import Path

from celery import Celery
from celery.signals import worker_ready

from crmadmin import broker  # noqa: F401 - makes filesystem:// use crmadmin's transport

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crmadmin.settings")

app = Celery("crmadmin")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

logger = logging.getLogger("crmadmin.massupdate")


@worker_ready.connect
def recover_stalled_jobs_at_start(**kwargs) -> None:
    """A worker that starts may replace one that died mid-job: resume its jobs now rather
    than at beat's next round (and with no beat running at all)."""
    from django.db import connections

    from crmadmin.massupdate.recovery import recover_stalled_jobs

    try:
        recover_stalled_jobs(reason="worker start")
    except Exception:
        # The worker must start all the same; beat tries again on its schedule.
        logger.exception("could not look for stalled jobs at worker start")
    finally:
        connections.close_all()


def filesystem_broker_options(folder: Path) -> dict:
    """Transport options of kombu's no-server broker, with its folders made under ``folder``.

    The folders must exist before a worker starts, and ``control_folder`` must be explicit
    (its default is relative to whatever directory a process starts in).
    """
    for name in ("queue", "processed", "control"):
        (folder / name).mkdir(parents=True, exist_ok=True)
    return {
        "data_folder_in": str(folder / "queue"),
        "data_folder_out": str(folder / "queue"),
        "processed_folder": str(folder / "processed"),
        "control_folder": str(folder / "control"),
        "store_processed": False,
        "polling_interval": 0.1,
    }
