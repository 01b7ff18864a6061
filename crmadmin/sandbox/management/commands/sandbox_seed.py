from django.core.management.base import BaseCommand, CommandParser

from crmadmin.sandbox.seed import seed


class Command(BaseCommand):
    help = "Fill the CRM sandbox with deterministic demo data (a no-op when already seeded)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--leads", type=int, default=5000, help="Number of Leads (default 5000)."
        )
        parser.add_argument(
            "--reset", action="store_true", help="Wipe records, views and jobs first."
        )

    def handle(self, *args, leads: int, reset: bool, **options) -> None:
        result = seed(leads=leads, reset=reset)
        summary = ", ".join(
            f"{result[key]} {key}" for key in ("Leads", "Contacts", "Accounts", "Deals")
        )
        if result["seeded"]:
            self.stdout.write(f"Seeded the sandbox: {summary}, {result['custom_views']} views.")
        else:
            self.stdout.write(
                f"The sandbox is already seeded ({summary}); nothing done. "
                "Use --reset to start again."
            )
