from django.core.management.base import BaseCommand

from crmadmin.zoho.models import Connection
from crmadmin.zoho.operations import check_connection


class Command(BaseCommand):
    help = "Test every connected CRM connection and record the result (as 'Test connection' does)."

    def handle(self, *args, **options) -> None:
        for connection in Connection.objects.all():
            ok = check_connection(connection=connection)
            connection.refresh_from_db()
            verdict = "working" if ok else "FAILED"
            self.stdout.write(f"{connection.name}: {verdict} ({connection.last_check_message})")
