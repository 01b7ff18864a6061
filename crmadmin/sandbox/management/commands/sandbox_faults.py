import json

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from crmadmin.sandbox import credits, faults

# option → (FaultConfig field type, help)
OPTIONS = {
    "latency": (float, "Seconds every API call takes (e.g. 1.0, about a real mass update)."),
    "spike_share": (float, "Share of calls (0–1) that take --spike-seconds more."),
    "spike_seconds": (float, "Extra seconds of a latency spike."),
    "share_429": (float, "Share of calls (0–1) answered 429 TOO_MANY_REQUESTS."),
    "share_5xx": (float, "Share of calls (0–1) answered 500/502/503."),
    "share_drop": (float, "Share of calls (0–1) whose connection is dropped unanswered."),
    "token_ttl": (int, "Lifetime of new access tokens, in seconds (Zoho: 3600)."),
    "grant_code_ttl": (int, "Lifetime of grant codes, in seconds."),
    "concurrency": (int, "Calls allowed in flight at once; 429 above it (0: no limit)."),
    "credits": (int, "API credits per rolling 24 hours; 429 when spent (0: no limit)."),
    "refresh_limit": (int, "Token refreshes allowed per refresh token per 10 minutes."),
    "access_tokens_per_refresh": (int, "Live access tokens per refresh token (oldest dies)."),
    "refresh_tokens_per_user": (int, "Refresh tokens per user and client (oldest dies)."),
    "job_delay": (float, "Seconds before a scheduled (cvid) mass update starts."),
    "job_rate": (float, "Records a second a scheduled mass update processes."),
}


class Command(BaseCommand):
    help = (
        "Change the sandbox's fault injection (read by the server on every API call) "
        "and print the resulting configuration as JSON, with the API credits used and "
        "remaining in the rolling 24 hours."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--reset", action="store_true", help="Start from the defaults.")
        for name, (kind, help_text) in OPTIONS.items():
            parser.add_argument(f"--{name.replace('_', '-')}", dest=name, type=kind, help=help_text)
        parser.add_argument(
            "--next",
            dest="next_faults",
            help="Comma-separated faults for the next calls, e.g. 429,500,drop,sleep:2",
        )
        bearer = parser.add_mutually_exclusive_group()
        bearer.add_argument(
            "--accept-bearer",
            dest="accept_bearer",
            action="store_true",
            default=None,
            help="Accept 'Authorization: Bearer …' as the recordings send it (the default).",
        )
        bearer.add_argument(
            "--refuse-bearer",
            dest="accept_bearer",
            action="store_false",
            help="Accept only 'Zoho-oauthtoken …', as Zoho documents.",
        )

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
