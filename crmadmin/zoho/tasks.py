"""Background work on connections: thin wrappers around ``operations``."""

from celery import shared_task

from .models import Connection
from .operations import check_connection


@shared_task(ignore_result=True)
def check_connection_task(connection_id: int) -> None:
    connection = Connection.objects.filter(pk=connection_id).first()
    if connection is not None:  # deleted since it was queued: nothing to check
        check_connection(connection=connection)


@shared_task(ignore_result=True)
def check_all_connections() -> None:
    """Periodic: keep every connection's "last test" current on the Connections page."""
    for connection_id in Connection.objects.values_list("pk", flat=True):
        check_connection_task.delay(connection_id)
