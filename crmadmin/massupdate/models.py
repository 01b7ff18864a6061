"""A mass update: the job row is the truth, its records carry before, after and outcome.

A ``Job`` goes draft → previewing → previewed → (awaiting approval →) queued → running →
one of the final states. Each selected record is a ``JobRecord`` (its before-snapshot, the
after it should get, its overall outcome); each write call is a ``Batch`` (which ids, which
fields, what Zoho answered); each per-record answer of a call is an ``Outcome``; the
``JobEvent`` rows are the job's audit trail, which nothing edits or deletes.

A revert is a ``Job`` of kind ``revert`` linked to the job it undoes: its records carry the
value the original job set (``expected``) and the value to restore (``after``).
"""

import uuid
from datetime import timedelta

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from crmadmin.zoho.models import Connection

# Zoho codes that may succeed when sent again: locks end, approvals are given, and
# throttling, server errors and lost answers are transient. A record that does not exist,
# was converted, or got a value Zoho refuses fails the same way every time.
RETRYABLE_CODES = frozenset(
    {
        "RECORD_LOCKED",
        "NOT_APPROVED",
        "NO_RESPONSE",
        "NOT_SENT",
        "TOO_MANY_REQUESTS",
        "INTERNAL_ERROR",
        "TIMEOUT",
        "CONNECTION_ERROR",
        "INVALID_RESPONSE",
    }
)


# A record a revert leaves alone because someone changed it after the job: listed, not sent.
CONFLICT = "CONFLICT"
NOT_FAILURES = frozenset({"SUCCESS", CONFLICT})

# The preview's groups of records: its counts and the filters of its table are both these.
PREVIEW_GROUPS = {
    "change": Q(found=True, will_change=True),
    "unchanged": Q(found=True, will_change=False, conflict=False),
    "conflicts": Q(conflict=True),
    "not_found": Q(found=False),
    "warnings": Q(found=True) & ~Q(warnings=[]),
}


class JobQuerySet(models.QuerySet):
    def for_user(self, user) -> "JobQuerySet":
        """The jobs ``user`` may see: managers see every job, operators their own."""
        if not user.is_authenticated:
            return self.none()
        if user.has_perm("massupdate.view_all_jobs"):
            return self
        return self.filter(owner=user)

    def running(self) -> "JobQuerySet":
        return self.filter(status__in=Job.ACTIVE_STATUSES)


class Job(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        PREVIEWING = "previewing", "Previewing"
        PREVIEWED = "previewed", "Previewed"
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        COMPLETED = "completed", "Completed"
        COMPLETED_WITH_ERRORS = "completed_with_errors", "Completed with errors"
        FAILED = "failed", "Failed"
        CANCELLED = "cancelled", "Cancelled"
        AWAITING_APPROVAL = "awaiting_approval", "Awaiting approval"
        REJECTED = "rejected", "Rejected"

    class Kind(models.TextChoices):
        UPDATE = "update", "Mass update"
        REVERT = "revert", "Revert"

    class Selection(models.TextChoices):
        NONE = "", "Not chosen yet"
        PASTE = "paste", "Pasted IDs"
        CSV = "csv", "CSV upload"
        FILTER = "filter", "Filter"
        VIEW = "view", "Custom view"
        RETRY = "retry", "Failures of an earlier job"
        REVERT = "revert", "Records an earlier job changed"

    ACTIVE_STATUSES = (Status.PREVIEWING, Status.QUEUED, Status.RUNNING)
    FINAL_STATUSES = (
        Status.COMPLETED,
        Status.COMPLETED_WITH_ERRORS,
        Status.FAILED,
        Status.CANCELLED,
        Status.REJECTED,
    )
    EDITABLE_STATUSES = (Status.DRAFT, Status.PREVIEWED)
    # A job whose revert ended like this changed nothing back, so it may be reverted again.
    UNDONE_NOTHING_STATUSES = (Status.FAILED, Status.CANCELLED, Status.REJECTED)

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="jobs")
    connection = models.ForeignKey(Connection, models.PROTECT, related_name="jobs")
    module = models.CharField(max_length=100)
    module_label = models.CharField(max_length=200, blank=True)
    status = models.CharField(max_length=30, choices=Status.choices, default=Status.DRAFT)
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.UPDATE)
    retry_of = models.ForeignKey(
        "self", models.PROTECT, null=True, blank=True, related_name="retries"
    )
    revert_of = models.ForeignKey(
        "self", models.PROTECT, null=True, blank=True, related_name="reverts"
    )
    # [FieldSpec.as_dict()] of the changed fields and [Change.as_dict()], in the same order.
    fields = models.JSONField(default=list, blank=True)
    changes = models.JSONField(default=list, blank=True)
    # "|Lead_Status|Rating|": the changed fields' names, so the audit list can filter by one.
    field_index = models.CharField(max_length=2000, blank=True)
    selection = models.CharField(max_length=10, choices=Selection.choices, blank=True)
    selection_summary = models.CharField(max_length=500, blank=True)
    selection_detail = models.JSONField(default=dict, blank=True)
    record_count = models.PositiveIntegerField(default=0)
    include_unchanged = models.BooleanField(default=False)
    reason = models.TextField(blank=True)

    preview_done = models.PositiveIntegerField(default=0)
    previewed_at = models.DateTimeField(null=True, blank=True)
    preview_counts = models.JSONField(default=dict, blank=True)

    # Changes whenever the preview is renewed: a Confirm form carries it, so a form shown
    # for an older preview (another tab, the back button) cannot submit.
    submit_token = models.UUIDField(default=uuid.uuid4)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+"
    )
    submitted_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # Why the job needs a manager's approval (empty: it does not), and the decision.
    approval_reasons = models.JSONField(default=list, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.TextField(blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    review_note = models.TextField(blank=True)
    cancel_requested_at = models.DateTimeField(null=True, blank=True)
    cancelled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+"
    )

    calls_total = models.PositiveIntegerField(default=0)
    calls_done = models.PositiveIntegerField(default=0)
    outcome_counts = models.JSONField(default=dict, blank=True)
    verification = models.JSONField(default=dict, blank=True)
    client_stats = models.JSONField(default=dict, blank=True)
    error_message = models.TextField(blank=True)
    # Who previews or runs the job now (a token of one worker's one attempt; empty: nobody)
    # and when it last said it is alive: a job whose heartbeat stops is resumed elsewhere
    # (recovery.py). Queuing a preview sets it too, so that a lost queue message shows.
    runner = models.CharField(max_length=100, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)

    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    objects = JobQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["owner", "-created_at"], name="job_owner_recent"),
            models.Index(fields=["status"], name="job_status"),
            models.Index(fields=["-created_at"], name="job_recent"),
        ]
        permissions = [
            ("view_all_jobs", "Can see every operator's jobs"),
            ("approve_job", "Can approve or reject other people's jobs"),
            ("review_job", "Can mark other people's jobs reviewed"),
        ]

    def __str__(self) -> str:
        return f"Job {self.pk} ({self.module})"

    @property
    def is_final(self) -> bool:
        return self.status in self.FINAL_STATUSES

    @property
    def is_active(self) -> bool:
        return self.status in self.ACTIVE_STATUSES

    @property
    def is_editable(self) -> bool:
        return self.status in self.EDITABLE_STATUSES

    @property
    def is_revert(self) -> bool:
        return self.kind == self.Kind.REVERT

    @property
    def preview_is_stale(self) -> bool:
        if self.previewed_at is None:
            return True
        max_age = timedelta(minutes=settings.CRMADMIN_PREVIEW_MAX_AGE_MINUTES)
        return timezone.now() - self.previewed_at > max_age

    @property
    def approval_has_lapsed(self) -> bool:
        """A preview older than an approval may rely on: the job needs a new one."""
        if self.previewed_at is None:
            return True
        max_age = timedelta(hours=settings.CRMADMIN_APPROVAL_MAX_AGE_HOURS)
        return timezone.now() - self.previewed_at > max_age

    @property
    def preview_percent(self) -> int:
        if not self.record_count:
            return 100 if self.previewed_at else 0
        return min(100, self.preview_done * 100 // self.record_count)

    @property
    def to_send(self) -> int:
        """Records the preview found worth sending (changing ones, plus any included)."""
        return self.preview_counts.get("to_send", 0)

    @property
    def run_percent(self) -> int:
        if self.is_final:
            return 100
        if not self.calls_total:
            return 0
        return min(100, self.calls_done * 100 // self.calls_total)

    @property
    def failure_count(self) -> int:
        return sum(n for code, n in self.outcome_counts.items() if code not in NOT_FAILURES)

    @property
    def success_count(self) -> int:
        return self.outcome_counts.get("SUCCESS", 0)

    @property
    def retryable_count(self) -> int:
        """Records whose failure a retry may fix (only once the job has finished)."""
        if not self.is_final:
            return 0
        return sum(n for code, n in self.outcome_counts.items() if code in RETRYABLE_CODES)

    @property
    def duration(self) -> timedelta | None:
        if self.started_at and self.finished_at:
            return self.finished_at - self.started_at
        return None

    @property
    def duration_text(self) -> str:
        """``7.4 s``, ``3 min 05 s``, ``1 h 02 min``."""
        if self.duration is None:
            return ""
        seconds = self.duration.total_seconds()
        if seconds < 60:
            return f"{seconds:.1f} s"
        minutes, seconds = divmod(round(seconds), 60)
        if minutes < 60:
            return f"{minutes} min {seconds:02d} s"
        hours, minutes = divmod(minutes, 60)
        return f"{hours} h {minutes:02d} min"

    def field_names(self) -> list[str]:
        """The fields the job writes (a revert: every field of the job it undoes)."""
        return [f["api_name"] for f in self.fields]


class JobRecord(models.Model):
    """One selected record: what it held, what it should hold, what happened to it."""

    class Status(models.TextChoices):
        PENDING = "", "Pending"
        SUCCESS = "success", "Success"
        ERROR = "error", "Error"
        SKIPPED = "skipped", "Skipped"

    job = models.ForeignKey(Job, models.CASCADE, related_name="records")
    position = models.PositiveIntegerField()
    record_id = models.CharField(max_length=20)
    # None until the preview has read it.
    found = models.BooleanField(null=True)
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)
    will_change = models.BooleanField(default=False)
    # Reverts only: the values the undone job set, which the record must still hold, and
    # whether it holds something else (someone changed it since; it is left alone).
    expected = models.JSONField(null=True, blank=True)
    conflict = models.BooleanField(default=False)
    warnings = models.JSONField(default=list, blank=True)
    included = models.BooleanField(default=True)
    batch = models.PositiveIntegerField(null=True, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, blank=True)
    code = models.CharField(max_length=60, blank=True)
    message = models.TextField(blank=True)
    http_status = models.PositiveSmallIntegerField(null=True, blank=True)
    # The read-back after the run: None (not checked), True (values landed), False.
    verified = models.BooleanField(null=True)
    verify_message = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["position"]
        constraints = [
            models.UniqueConstraint(fields=["job", "position"], name="jobrecord_position"),
        ]
        indexes = [
            models.Index(fields=["job", "record_id"], name="jobrecord_record_id"),
            models.Index(fields=["job", "code", "position"], name="jobrecord_code"),
            models.Index(fields=["job", "included", "position"], name="jobrecord_included"),
            models.Index(fields=["job", "batch"], name="jobrecord_batch"),
            # "Which mass updates touched record X?"
            models.Index(fields=["record_id"], name="jobrecord_any_job"),
        ]

    def __str__(self) -> str:
        return self.record_id

    @property
    def retryable(self) -> bool:
        return self.status == self.Status.ERROR and self.code in RETRYABLE_CODES


class Batch(models.Model):
    """One write call: up to 500 ids and the fields of one step."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"
        NOT_SENT = "not_sent", "Not sent"

    job = models.ForeignKey(Job, models.CASCADE, related_name="batches")
    step = models.PositiveSmallIntegerField()
    number = models.PositiveIntegerField()
    fields = models.JSONField(default=list)
    record_ids = models.JSONField(default=list)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    http_status = models.PositiveSmallIntegerField(null=True, blank=True)
    error_code = models.CharField(max_length=60, blank=True)
    error_message = models.TextField(blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["step", "number"]
        constraints = [
            models.UniqueConstraint(fields=["job", "step", "number"], name="batch_number"),
        ]

    def __str__(self) -> str:
        return f"batch {self.number} step {self.step} of job {self.job_id}"

    @property
    def exchanges(self) -> list[dict]:
        """The call's raw HTTP attempts, redacted, as the audit trail holds them."""
        event = self.events.filter(kind=JobEvent.Kind.BATCH_SENT).first()
        return event.detail.get("exchanges", []) if event else []


class Outcome(models.Model):
    """What Zoho answered about one record in one call (a step writes one group of fields)."""

    job = models.ForeignKey(Job, models.CASCADE, related_name="outcomes")
    record = models.ForeignKey(JobRecord, models.CASCADE, related_name="outcomes")
    step = models.PositiveSmallIntegerField()
    batch = models.PositiveIntegerField()
    code = models.CharField(max_length=60)
    status = models.CharField(max_length=10)
    message = models.TextField(blank=True)
    details = models.JSONField(default=dict, blank=True)
    http_status = models.PositiveSmallIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["record_id", "step"]
        constraints = [
            # Recorded once however often a batch's answer is processed.
            models.UniqueConstraint(fields=["record", "step"], name="outcome_once"),
        ]

    def __str__(self) -> str:
        return f"{self.code} for {self.record_id}"


class AppendOnly(Exception):
    """An attempt to change or delete a row of the audit trail."""


class JobEventQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise AppendOnly("The audit trail is append-only: its rows cannot be changed.")

    def delete(self):
        raise AppendOnly("The audit trail is append-only: its rows cannot be deleted.")

    _raw_delete = delete


class JobEvent(models.Model):
    """The job's audit trail: what happened, when, by whom; rows are only ever added.

    Each row is written in the same transaction as the change it records. Saving an
    existing row, deleting one, or updating or deleting through a queryset raises
    ``AppendOnly``; a database trigger refuses UPDATEs that bypass the ORM; and the job
    they belong to cannot be deleted while they exist (``PROTECT``).
    """

    class Kind(models.TextChoices):
        DRAFTED = "drafted", "Drafted"
        CHANGES_SET = "changes_set", "Changes set"
        RECORDS_SELECTED = "records_selected", "Records selected"
        PREVIEW_STARTED = "preview_started", "Preview started"
        PREVIEWED = "previewed", "Previewed"
        PREVIEW_FAILED = "preview_failed", "Preview failed"
        SUBMITTED = "submitted", "Submitted"
        APPROVAL_REQUESTED = "approval_requested", "Approval requested"
        APPROVED = "approved", "Approved"
        REJECTED = "rejected", "Rejected"
        APPROVAL_LAPSED = "approval_lapsed", "Approval lapsed"
        STARTED = "started", "Started"
        BATCH_SENT = "batch_sent", "Batch sent"
        CANCEL_REQUESTED = "cancel_requested", "Cancel requested"
        FINISHED = "finished", "Finished"
        VERIFIED = "verified", "Read back"
        RETRIED = "retried", "Retried"
        REVERTED = "reverted", "Revert started"
        REVIEWED = "reviewed", "Reviewed"
        RESUMED = "resumed", "Resumed"

    job = models.ForeignKey(Job, models.PROTECT, related_name="events")
    kind = models.CharField(max_length=30, choices=Kind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+"
    )
    at = models.DateTimeField(default=timezone.now)
    message = models.CharField(max_length=1000, blank=True)
    # The call of a BATCH_SENT event, whose ``detail`` holds its redacted raw exchanges.
    batch = models.ForeignKey(Batch, models.PROTECT, null=True, blank=True, related_name="events")
    detail = models.JSONField(default=dict, blank=True)

    objects = JobEventQuerySet.as_manager()

    class Meta:
        ordering = ["at", "pk"]
        indexes = [
            models.Index(fields=["job", "at"], name="jobevent_job_at"),
            models.Index(fields=["kind", "at"], name="jobevent_kind_at"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} at {self.at:%Y-%m-%d %H:%M:%S}"

    def save(self, *args, **kwargs) -> None:
        if not self._state.adding:
            raise AppendOnly("The audit trail is append-only: its rows cannot be changed.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnly("The audit trail is append-only: its rows cannot be deleted.")


class MetadataCache(models.Model):
    """A connection's module list or a module's fields, as last fetched from the CRM."""

    connection = models.ForeignKey(Connection, models.CASCADE, related_name="metadata")
    key = models.CharField(max_length=200)
    payload = models.JSONField(default=list)
    fetched_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["connection", "key"], name="metadata_key"),
        ]

    def __str__(self) -> str:
        return f"{self.key} of {self.connection}"

    def is_fresh(self) -> bool:
        max_age = timedelta(seconds=settings.CRMADMIN_METADATA_MAX_AGE_SECONDS)
        return timezone.now() - self.fetched_at < max_age


class ApprovalPolicy(models.Model):
    """Which jobs wait for a manager: one row, edited in the admin.

    Its first values come from ``CRMADMIN_APPROVAL_THRESHOLD`` and
    ``CRMADMIN_SENSITIVE_FIELDS``.
    """

    threshold = models.PositiveIntegerField(
        help_text="A job that would send more records than this waits for approval."
    )
    sensitive_fields = models.TextField(
        blank=True,
        help_text=(
            "Fields whose change always needs approval, one per line or comma-separated: "
            "an API name (Stage) for every module, or Module.Field (Deals.Stage) for one."
        ),
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "approval policy"

    def __str__(self) -> str:
        return f"Approval above {self.threshold:,} records"

    @classmethod
    def current(cls) -> "ApprovalPolicy":
        policy, _ = cls.objects.get_or_create(
            pk=1,
            defaults={
                "threshold": settings.CRMADMIN_APPROVAL_THRESHOLD,
                "sensitive_fields": "\n".join(settings.CRMADMIN_SENSITIVE_FIELDS),
            },
        )
        return policy

    def sensitive_in(self, module: str, fields: list[str]) -> list[str]:
        """The names among ``fields`` of ``module`` that this policy calls sensitive."""
        entries = {e.strip() for e in self.sensitive_fields.replace(",", "\n").splitlines()}
        return [f for f in fields if f in entries or f"{module}.{f}" in entries]
