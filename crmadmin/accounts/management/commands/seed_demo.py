"""Demo mode only: demo users, the sandbox's demo data, and a connection to the sandbox.

``make demo`` runs it on every start; it is idempotent (existing data is kept, the
connection follows the address the demo is served on).
"""

from django.conf import settings
from django.contrib.auth.models import Group, User
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.urls import reverse

from crmadmin.accounts.roles import MANAGER, OPERATOR
from crmadmin.sandbox import oauth as sandbox_oauth
from crmadmin.sandbox.seed import seed as seed_sandbox
from crmadmin.zoho.datacentres import CUSTOM
from crmadmin.zoho.models import Connection

DEMO_PASSWORD = "crmadmin-demo"
DEMO_USERS = [
    ("operator", OPERATOR, False),
    ("operator2", OPERATOR, False),
    ("manager", MANAGER, False),
    ("admin", None, True),
]
SANDBOX_CONNECTION = "Sandbox (built-in)"


# Enough Leads for a 10,000-record job on the demo data.
DEMO_LEADS = 12_000


class Command(BaseCommand):
    help = "Create demo users, seed the CRM sandbox and connect crmadmin to it (demo mode only)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--base-url",
            default="http://127.0.0.1:8000",
            help="Where crmadmin is served; the sandbox connection points there.",
        )

    def handle(self, *args, base_url: str, **options) -> None:
        if not settings.CRMADMIN_DEMO:
            raise CommandError(
                "seed_demo runs only in demo mode (CRMADMIN_DEMO=1); see the README."
            )
        if not settings.CRMADMIN_SANDBOX_ENABLED:
            raise CommandError("seed_demo needs the built-in sandbox (CRMADMIN_SANDBOX=1).")
        base_url = base_url.rstrip("/")
        self.create_users()
        summary = seed_sandbox(leads=DEMO_LEADS)
        self.stdout.write(f"Sandbox data: {summary}")
        connection = self.connect_sandbox(base_url)
        self.stdout.write(f"Connection {connection.name!r} → {connection.api_domain}")

    def create_users(self) -> None:
        for username, role, is_admin in DEMO_USERS:
            user, created = User.objects.get_or_create(
                username=username,
                defaults={"is_staff": is_admin, "is_superuser": is_admin},
            )
            if created:
                user.set_password(DEMO_PASSWORD)
                user.save()
                self.stdout.write(f"Demo user {username!r} created")
            if role:
                user.groups.add(Group.objects.get(name=role))

    @transaction.atomic
    def connect_sandbox(self, base_url: str) -> Connection:
        sandbox_url = f"{base_url}/sandbox"
        redirect_uri = base_url + reverse("zoho:oauth-callback")
        connection = Connection.objects.filter(name=SANDBOX_CONNECTION).first()
        if connection and connection.api_domain == sandbox_url and connection.refresh_token:
            if connection.redirect_uri != redirect_uri:
                connection.redirect_uri = redirect_uri
                connection.save(update_fields=["redirect_uri", "updated_at"])
            return connection
        client = sandbox_oauth.create_client("crmadmin demo", [redirect_uri])
        refresh_token = sandbox_oauth.issue_refresh_token(client)
        connection = connection or Connection(name=SANDBOX_CONNECTION)
        connection.data_centre = CUSTOM
        connection.accounts_url = sandbox_url
        connection.api_domain = sandbox_url
        connection.client_id = client.client_id
        connection.client_secret = client.client_secret
        connection.redirect_uri = redirect_uri
        connection.refresh_token = refresh_token
        connection.access_token = ""
        connection.access_token_expires_at = None
        connection.save()
        return connection
