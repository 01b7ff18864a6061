"""The audit pages. Every job comes through ``get_job_for_user`` or ``Job.objects.for_user``:
managers see every job, operators only their own."""

from django.http import HttpRequest


def htmx_target(request: HttpRequest, target: str) -> bool:
    """Whether htmx asks for the region ``target`` only (not when it restores history)."""
    htmx = request.htmx
    return bool(htmx) and htmx.target == target and not htmx.history_restore_request
