from django.core.management.base import BaseCommand

from crmadmin.zoho.models import Connection
from crmadmin.zoho.operations import check_connection


class Command(BaseCommand):
    help = "Test every connected CRM connection and record the result (as 'Test connection' does)."

    def handle(self, *args, **options) -> None:
        for connection in Connection.objects.all():
            # check_connection records the outcome on this very instance.
            ok = check_connection(connection=connection)
            verdict = "working" if ok else "FAILED"
            self.stdout.write(f"{connection.name}: {verdict} ({connection.last_check_message})")
