"""The sandbox CRM's own tables: users, records, views, jobs, OAuth and the fault switchboard.

Nothing here knows about the rest of crmadmin; the sandbox is a stand-in for Zoho.
"""

import hashlib
import math
import secrets
from datetime import datetime

from django.db import models, transaction
from django.utils import timezone

from .envelope import error_body

DEFAULT_USER_ID = "738964000000291009"
DEFAULT_USER_NAME = "patricia patricia"


def iso(value: datetime | None) -> str | None:
    """Zoho's datetime format: ISO 8601, whole seconds, explicit offset."""
    if value is None:
        return None
    return value.astimezone(timezone.UTC).strftime("%Y-%m-%dT%H:%M:%S+00:00")


def hash_secret(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def new_numeric_id() -> str:
    """A fresh 19-digit id in the sandbox org's style, for objects made at run time."""
    return "9" + "".join(secrets.choice("0123456789") for _ in range(18))


class SandboxUser(models.Model):
    """A CRM user: the Owner, Created_By and Modified_By of records."""

    id = models.CharField(max_length=19, primary_key=True)
    name = models.CharField(max_length=100)
    email = models.EmailField()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @classmethod
    def default(cls) -> "SandboxUser":
        """patricia, the user of the recordings; created on demand so tokens work unseeded."""
        user, _ = cls.objects.get_or_create(
            id=DEFAULT_USER_ID,
            defaults={"name": DEFAULT_USER_NAME, "email": "patricia@zylker.example"},
        )
        return user

    def as_ref(self) -> dict:
        return {"name": self.name, "id": self.id}


class Record(models.Model):
    """One CRM record. Field values live in ``data``, in their API representation."""

    APPROVED = "approved"
    PENDING = "pending"
    APPROVAL_CHOICES = [(APPROVED, "Approved"), (PENDING, "Awaiting approval")]

    id = models.CharField(max_length=19, primary_key=True)
    module = models.CharField(max_length=60, db_index=True)
    data = models.JSONField(default=dict)
    created_time = models.DateTimeField()
    modified_time = models.DateTimeField()
    created_by = models.ForeignKey(SandboxUser, on_delete=models.PROTECT, related_name="+")
    modified_by = models.ForeignKey(SandboxUser, on_delete=models.PROTECT, related_name="+")
    approval_state = models.CharField(max_length=10, choices=APPROVAL_CHOICES, default=APPROVED)
    locked_action = models.CharField(
        max_length=60, blank=True, default="", help_text="e.g. zia_vision_processing"
    )
    converted = models.BooleanField(default=False)

    class Meta:
        indexes = [models.Index(fields=["module", "modified_time"])]

    def __str__(self) -> str:
        return f"{self.module} {self.id}"

    @property
    def name(self) -> str:
        for key in ("Full_Name", "Deal_Name", "Account_Name"):
            value = self.data.get(key)
            if isinstance(value, str) and value:
                return value
        return self.id

    def as_ref(self) -> dict:
        return {"name": self.name, "id": self.id}

    def refusal(self) -> dict | None:
        """The per-record error Zoho gives when this record cannot be written, else None."""
        if self.locked_action == "zia_vision_processing":
            # Zoho's own (odd) message for the Zia image check, exactly as recorded.
            return error_body(
                "RECORD_LOCKED",
                "cannot update record that is not approved yet",
                {"action": self.locked_action, "id": self.id},
            )
        if self.locked_action:
            return error_body(
                "RECORD_LOCKED",
                "Sorry, you cannot perform this operation as the record is locked.",
                {"action": self.locked_action, "id": self.id},
            )
        if self.approval_state == self.PENDING:
            return error_body(
                "NOT_APPROVED", "cannot update record that is not approved yet", {"id": self.id}
            )
        if self.converted:
            return error_body(
                "CONVERTED_RECORD", "can't update the converted record", {"id": self.id}
            )
        return None

    def system_values(self) -> dict:
        """The keys Zoho adds to every record besides its fields."""
        return {
            "id": self.id,
            "Created_Time": iso(self.created_time),
            "Modified_Time": iso(self.modified_time),
            "Created_By": self.created_by.as_ref(),
            "Modified_By": self.modified_by.as_ref(),
            "$approval_state": (
                "approved" if self.approval_state == self.APPROVED else "approval_process_pending"
            ),
            "$approved": self.approval_state == self.APPROVED,
            "$converted": self.converted,
            "$locked_for_me": bool(self.locked_action),
            "$editable": self.refusal() is None,
        }

    def values(self) -> dict:
        """Every value of the record, system keys included: what criteria are evaluated on."""
        return {**self.data, **self.system_values()}

    def success_details(self) -> dict:
        """The details of a SUCCESS entry, with the key order of the recordings."""
        return {
            "Modified_Time": iso(self.modified_time),
            "Modified_By": self.modified_by.as_ref(),
            "Created_Time": iso(self.created_time),
            "id": self.id,
            "Created_By": self.created_by.as_ref(),
        }


class CustomView(models.Model):
    """A list view of a module; ``criteria`` uses Zoho's custom-view criteria JSON."""

    id = models.CharField(max_length=19, primary_key=True)
    module = models.CharField(max_length=60, db_index=True)
    name = models.CharField(max_length=100)
    system_name = models.CharField(max_length=60, null=True, blank=True)
    system_defined = models.BooleanField(default=False)
    is_default = models.BooleanField(default=False)
    category = models.CharField(max_length=30, default="public_views")
    criteria = models.JSONField(null=True, blank=True)
    created_by = models.ForeignKey(
        SandboxUser, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_time = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["module", "-is_default", "name"]

    def __str__(self) -> str:
        return f"{self.module}: {self.name}"


class MassUpdateJob(models.Model):
    """A mass update scheduled with a cvid. It advances lazily: see ``advance``."""

    SCHEDULED = "SCHEDULED"
    RUNNING = "RUNNING"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"
    ACTIVE = (SCHEDULED, RUNNING)

    id = models.CharField(max_length=19, primary_key=True, default=new_numeric_id)
    module = models.CharField(max_length=60)
    custom_view = models.ForeignKey(CustomView, on_delete=models.CASCADE, related_name="jobs")
    changes = models.JSONField(help_text="Field API name → value, already validated.")
    over_write = models.BooleanField(default=False)
    user = models.ForeignKey(SandboxUser, on_delete=models.PROTECT, related_name="+")
    record_ids = models.JSONField(help_text="The view's records when the job was scheduled.")
    total_count = models.PositiveIntegerField()
    processed = models.PositiveIntegerField(default=0)
    updated_count = models.PositiveIntegerField(default=0)
    failed_count = models.PositiveIntegerField(default=0)
    status = models.CharField(max_length=10, default=SCHEDULED)
    scheduled_at = models.DateTimeField(default=timezone.now)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-scheduled_at"]

    def __str__(self) -> str:
        return f"job {self.id} ({self.status})"

    def status_payload(self) -> dict:
        return {
            "Status": self.status,
            "Failed_Count": self.failed_count,
            "Updated_Count": self.updated_count,
            "Not_Updated_Count": self.total_count - self.updated_count - self.failed_count,
            "Total_Count": self.total_count,
        }

    def due(self, now: datetime, *, delay: float, rate: float) -> int:
        """How many records the job should have processed by ``now``."""
        elapsed = (now - self.scheduled_at).total_seconds() - delay
        if elapsed < 0:
            return 0
        return min(self.total_count, max(1, math.floor(elapsed * rate)))

    def advance(self, *, delay: float, rate: float) -> None:
        """Process the records that are due, as a real job would have by now.

        Doing the work when someone looks (status calls, requests to the module) keeps the
        sandbox free of background workers. The job row is locked while a slice is done
        (select_for_update; SQLite's IMMEDIATE transaction serialises writers anyway),
        and ``processed`` is re-read under the lock, so of two simultaneous pollers only
        one does each slice. ``processed`` only grows, so when this (possibly older) copy
        says nothing is due, nothing is: every request to the module asks, and most
        must not take the write lock for nothing.
        """
        from .operations import apply_job_slice  # operations imports this module

        if self.status not in self.ACTIVE:
            return
        now = timezone.now()
        target = self.due(now, delay=delay, rate=rate)
        if target <= self.processed:
            return
        with transaction.atomic():
            fresh = MassUpdateJob.objects.select_for_update().get(pk=self.pk)
            if fresh.status in self.ACTIVE and target > fresh.processed:
                updated, failed = apply_job_slice(job=fresh, upto=target)
                fresh.processed = target
                fresh.updated_count += updated
                fresh.failed_count += failed
                fresh.status = self.RUNNING
                if target >= fresh.total_count:
                    fresh.status = self.COMPLETED
                    fresh.completed_at = now
                fresh.save()


class OAuthClient(models.Model):
    """A client registered in the (simulated) Zoho API console.

    The secret is kept readable, as Zoho's API console shows it again: ``sandbox_token
    --refresh`` must be able to print it for a client it reuses.
    """

    client_id = models.CharField(max_length=60, unique=True)
    client_secret = models.CharField(max_length=60)
    name = models.CharField(max_length=100)
    redirect_uris = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.client_id})"


class GrantCode(models.Model):
    code_hash = models.CharField(max_length=64, unique=True)
    client = models.ForeignKey(OAuthClient, on_delete=models.CASCADE, related_name="codes")
    user = models.ForeignKey(SandboxUser, on_delete=models.CASCADE, related_name="+")
    scopes = models.TextField()
    redirect_uri = models.CharField(
        max_length=500, blank=True, default="", help_text="Empty for self-client codes."
    )
    access_type = models.CharField(max_length=10, default="offline")
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"grant code for {self.client.name}"

    @property
    def self_client(self) -> bool:
        return not self.redirect_uri


class RefreshToken(models.Model):
    token_hash = models.CharField(max_length=64, unique=True)
    client = models.ForeignKey(OAuthClient, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(SandboxUser, on_delete=models.CASCADE, related_name="+")
    scopes = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"refresh token {self.pk} of {self.client_id}"


class AccessToken(models.Model):
    CODE = "code"
    REFRESH = "refresh"
    DIRECT = "direct"

    token_hash = models.CharField(max_length=64, unique=True)
    client = models.ForeignKey(
        OAuthClient, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    refresh_token = models.ForeignKey(
        RefreshToken,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="access_tokens",
    )
    user = models.ForeignKey(SandboxUser, on_delete=models.CASCADE, related_name="+")
    scopes = models.TextField()
    source = models.CharField(max_length=10, default=DIRECT)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["refresh_token", "source", "created_at"])]

    def __str__(self) -> str:
        return f"access token {self.pk} ({self.source})"

    @property
    def scope_list(self) -> list[str]:
        return [s for s in self.scopes.split(",") if s]

    def is_valid(self, now: datetime | None = None) -> bool:
        now = now or timezone.now()
        return self.revoked_at is None and self.expires_at > now


class FaultConfig(models.Model):
    """The sandbox's switchboard, one row, read on every API request.

    Tests and benchmarks change it through the ORM, ``faults.configure()`` or the
    ``sandbox_faults`` command; a running server picks the change up on its next request.
    """

    latency = models.FloatField(default=0.0, help_text="Seconds added to every API call.")
    spike_share = models.FloatField(default=0.0, help_text="Share of calls with a spike.")
    spike_seconds = models.FloatField(default=0.0, help_text="Extra seconds of a spike.")
    share_429 = models.FloatField(default=0.0)
    share_5xx = models.FloatField(default=0.0)
    share_drop = models.FloatField(default=0.0, help_text="Share of connections closed.")
    next_faults = models.JSONField(
        default=list,
        blank=True,
        help_text='Consumed one per API call, in order: "429", "500", "502", "503", '
        '"drop", "truncate", "invalid_token", "ok", "sleep:<seconds>".',
    )
    concurrency = models.PositiveIntegerField(
        default=20, help_text="Simultaneous API calls served; 0 means no limit."
    )
    token_ttl = models.PositiveIntegerField(default=3600, help_text="Access-token lifetime (s).")
    grant_code_ttl = models.PositiveIntegerField(default=120)
    refresh_limit = models.PositiveIntegerField(
        default=10, help_text="Refreshes per refresh token per 10 minutes; 0 means no limit."
    )
    access_tokens_per_refresh = models.PositiveIntegerField(
        default=15, help_text="Live access tokens per refresh token; 0 means no limit."
    )
    refresh_tokens_per_user = models.PositiveIntegerField(
        default=20, help_text="Refresh tokens per client and user; 0 means no limit."
    )
    accept_bearer = models.BooleanField(
        default=True, help_text="Accept 'Authorization: Bearer' besides 'Zoho-oauthtoken'."
    )
    credits = models.PositiveIntegerField(
        default=1_000_000,
        help_text="API credits per rolling 24 hours (Zoho's daily limit); 0 means no limit.",
    )
    job_delay = models.FloatField(default=2.0, help_text="Seconds a cvid job stays SCHEDULED.")
    job_rate = models.FloatField(default=100.0, help_text="Records a cvid job does per second.")
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return "sandbox fault configuration"

    @classmethod
    def current(cls) -> "FaultConfig":
        config, _ = cls.objects.get_or_create(pk=1)
        return config

    def as_dict(self) -> dict:
        return {
            field.name: getattr(self, field.name)
            for field in self._meta.concrete_fields
            if field.name not in {"id", "updated_at"}
        }


class CreditBucket(models.Model):
    """The API credits spent in one minute: the ledger of the daily credit limit.

    One row a minute keeps the 24-hour sum to at most 1441 rows however many calls were
    made; rows older than the window are deleted as new minutes begin.
    """

    minute = models.DateTimeField(unique=True, help_text="Start of the minute (UTC).")
    credits = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-minute"]

    def __str__(self) -> str:
        return f"{self.credits} credits at {iso(self.minute)}"
