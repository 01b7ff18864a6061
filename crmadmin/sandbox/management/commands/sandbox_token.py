from django.core.management.base import BaseCommand, CommandError, CommandParser

from crmadmin.sandbox import oauth
from crmadmin.sandbox.models import OAuthClient, SandboxUser

CLI_CLIENT = "sandbox-cli"


class Command(BaseCommand):
    help = (
        "Print a sandbox access token on one line (all scopes by default); with --refresh "
        "print 'CLIENT_ID CLIENT_SECRET REFRESH_TOKEN' of the sandbox-cli client instead."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--scopes", default=None, help="Comma-separated scopes.")
        parser.add_argument("--refresh", action="store_true")
        parser.add_argument("--user", default=None, help="CRM user id (default: patricia).")

    def handle(self, *args, scopes: str | None, refresh: bool, user: str | None, **options):
        crm_user = (
            SandboxUser.default() if user is None else SandboxUser.objects.filter(pk=user).first()
        )
        if crm_user is None:
            raise CommandError(f"No sandbox user with id {user}.")
        scope_list = oauth.parse_scopes(scopes)
        if not scope_list:
            raise CommandError("--scopes names no scope.")
        if refresh:
            client = OAuthClient.objects.filter(name=CLI_CLIENT).order_by("pk").first()
            if client is None:
                client = oauth.create_client(CLI_CLIENT, [])
            token = oauth.issue_refresh_token(client, scope_list, user=crm_user)
            self.stdout.write(f"{client.client_id} {client.client_secret} {token}")
        else:
            self.stdout.write(oauth.issue_access_token(scope_list, user=crm_user))
