import json

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from crmadmin.sandbox import credits, faults

# option → FaultConfig field
OPTIONS = {
    "latency": float,
    "spike_share": float,
    "spike_seconds": float,
    "share_429": float,
    "share_5xx": float,
    "share_drop": float,
    "token_ttl": int,
    "grant_code_ttl": int,
    "concurrency": int,
    "credits": int,
    "refresh_limit": int,
    "access_tokens_per_refresh": int,
    "refresh_tokens_per_user": int,
    "job_delay": float,
    "job_rate": float,
}


class Command(BaseCommand):
    help = (
        "Change the sandbox's fault injection (read by the server on every API call) "
        "and print the resulting configuration as JSON, with the API credits used and "
        "remaining in the rolling 24 hours."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--reset", action="store_true", help="Start from the defaults.")
        for name, kind in OPTIONS.items():
            parser.add_argument(f"--{name.replace('_', '-')}", dest=name, type=kind)
        parser.add_argument(
            "--next",
            dest="next_faults",
            help="Comma-separated faults for the next calls, e.g. 429,500,drop,sleep:2",
        )
        bearer = parser.add_mutually_exclusive_group()
        bearer.add_argument(
            "--accept-bearer", dest="accept_bearer", action="store_true", default=None
        )
        bearer.add_argument("--refuse-bearer", dest="accept_bearer", action="store_false")

    def handle(self, *args, reset: bool, **options) -> None:
        if reset:
            faults.reset()
        changes = {name: options[name] for name in OPTIONS if options.get(name) is not None}
        if options.get("accept_bearer") is not None:
            changes["accept_bearer"] = options["accept_bearer"]
        if options.get("next_faults") is not None:
            changes["next_faults"] = [
                k.strip() for k in options["next_faults"].split(",") if k.strip()
            ]
        try:
            config = faults.configure(**changes)
        except (ValueError, ValidationError) as error:
            raise CommandError(str(error)) from None
        printed = {**config.as_dict(), **credits.summary(config)}
        self.stdout.write(json.dumps(printed, indent=2))
