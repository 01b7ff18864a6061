"""The audit pages' inputs: the job list's filters, the record search, the review note."""

from datetime import date, datetime, time, timedelta

from django import forms
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db.models import Q, QuerySet
from django.utils import timezone

from crmadmin.formfields import PlainDateField
from crmadmin.massupdate.forms import PageField
from crmadmin.massupdate.models import CONFLICT, RETRYABLE_CODES, Job

# Job numbers beyond this are no job's, and would overflow the database's integer.
MAX_JOB_NUMBER = 10**15
# No job is older than crmadmin, nor will be this young; the day after 9999-12-31 (where
# the "to" filter ends) is no date Python has.
FIRST_DAY, LAST_DAY = date(2000, 1, 1), date(2999, 12, 31)

api_name = RegexValidator(r"^[A-Za-z0-9_]+$", "An API name has only letters, digits and _.")
outcome_code = RegexValidator(r"^[A-Za-z0-9_]+$", "A code has only letters, digits and _.")
# Offered as suggestions in the outcome filter; any code can be typed.
KNOWN_CODES = sorted({"SUCCESS", "INVALID_DATA", "MANDATORY_NOT_FOUND", CONFLICT, *RETRYABLE_CODES})

# [0-9], not \d: look-alike digits (Arabic-Indic, full-width) are no record's ID.
record_id = RegexValidator(r"^[0-9]+$", "A record ID is a number, like 1306462000000496025.")


class DateInput(forms.DateInput):
    input_type = "date"


class JobDateField(PlainDateField):
    """A day of the job list's date range; one no job can have is refused, with the range."""

    def validate(self, value: date | None) -> None:
        super().validate(value)
        if value and not FIRST_DAY <= value <= LAST_DAY:
            raise ValidationError(f"Give a date between {FIRST_DAY} and {LAST_DAY}.")


class JobFilterForm(forms.Form):
    """The job list's filters, read from the query string; ``filter()`` applies them."""

    q = forms.CharField(
        required=False,
        max_length=200,
        label="Search",
        help_text="Reason, selection, owner or job number",
    )
    created_from = JobDateField(required=False, label="Created from", widget=DateInput)
    created_to = JobDateField(required=False, label="to", widget=DateInput)
    owner = forms.ModelChoiceField(
        queryset=get_user_model().objects.none(),
        required=False,
        to_field_name="username",
        empty_label="Anyone",
        label="Person",
    )
    module = forms.ChoiceField(required=False)
    field = forms.CharField(
        required=False,
        max_length=100,
        label="Field",
        help_text="Its API name or its label: Lead_Status or Lead Status.",
    )
    outcome = forms.CharField(
        required=False,
        max_length=60,
        validators=[outcome_code],
        label="Outcome code",
        widget=forms.TextInput(attrs={"list": "outcome-codes"}),
    )
    status = forms.ChoiceField(choices=[("", "Any status"), *Job.Status.choices], required=False)
    kind = forms.ChoiceField(choices=[("", "Any kind"), *Job.Kind.choices], required=False)
    reviewed = forms.ChoiceField(
        choices=[("", "Reviewed or not"), ("yes", "Reviewed"), ("no", "Not reviewed")],
        required=False,
    )
    page = PageField()

    def __init__(self, *args, jobs: QuerySet[Job], **kwargs) -> None:
        """``jobs``: the jobs the user may see; the person and module choices come from them."""
        super().__init__(*args, **kwargs)
        people = get_user_model().objects.filter(pk__in=jobs.values("owner_id"))
        self.fields["owner"].queryset = people.order_by("username")
        modules = jobs.order_by("module").values_list("module", flat=True).distinct()
        self.fields["module"].choices = [("", "Any module")] + [(m, m) for m in modules]

    def clean_field(self) -> str:
        """A label typed as shown (``Lead Status``) becomes the API name Zoho derives from it."""
        name = "_".join(self.cleaned_data["field"].split())
        api_name(name)
        return name

    def clean_outcome(self) -> str:
        return self.cleaned_data["outcome"].upper()

    def clean(self) -> dict:
        data = super().clean()
        start, end = data.get("created_from"), data.get("created_to")
        if start and end and start > end:
            raise ValidationError("The date range ends before it starts.")
        return data

    def filter(self, jobs: QuerySet[Job]) -> QuerySet[Job]:
        """``jobs`` narrowed by every filter that is valid (a bad one is left out)."""
        data = self.cleaned_data
        if data.get("created_from"):
            jobs = jobs.filter(created_at__gte=_start_of(data["created_from"]))
        if data.get("created_to"):
            jobs = jobs.filter(created_at__lt=_start_of(data["created_to"] + timedelta(days=1)))
        if data.get("owner"):
            jobs = jobs.filter(owner=data["owner"])
        for name, lookup in [("module", "module"), ("status", "status"), ("kind", "kind")]:
            if data.get(name):
                jobs = jobs.filter(**{lookup: data[name]})
        if data.get("field"):
            jobs = jobs.filter(field_index__icontains=f"|{data['field']}|")
        if data.get("outcome"):
            jobs = jobs.filter(outcome_counts__has_key=data["outcome"])
        if data.get("reviewed"):
            jobs = jobs.filter(reviewed_at__isnull=data["reviewed"] == "no")
        if data.get("q", "").strip():
            jobs = jobs.filter(_search(data["q"].strip()))
        return jobs


def _start_of(day: date) -> datetime:
    """Midnight of ``day`` where the users are (so the filter can use the date index)."""
    return timezone.make_aware(datetime.combine(day, time.min))


def _search(text: str) -> Q:
    match = (
        Q(reason__icontains=text)
        | Q(selection_summary__icontains=text)
        | Q(owner__username__icontains=text)
    )
    number = text.removeprefix("#")
    # isdigit() alone takes "³" (which int() refuses) and "٣" (which it reads as 3).
    if number.isascii() and number.isdigit() and int(number) < MAX_JOB_NUMBER:
        match |= Q(pk=int(number))
    return match


class ExportFormatForm(forms.Form):
    format = forms.ChoiceField(choices=[("csv", "CSV"), ("json", "JSON")])


class RecordSearchForm(forms.Form):
    record_id = forms.CharField(max_length=30, validators=[record_id], label="Record ID")
    page = PageField()


class ReviewForm(forms.Form):
    note = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=2000,
        label="Review note",
        help_text="What you checked; it is kept in the job's audit trail.",
    )
