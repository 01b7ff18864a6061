"""The workflow's forms. Each page's input, query strings included, passes through one."""

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator

from crmadmin.zoho.models import Connection

from .fieldvalues import FieldSpec
from .models import Job
from .selection import FILTER_OPERATORS, MAX_CSV_BYTES, MAX_RECORDS, OPERATOR_LABELS

BAD_PAGE = "There is no such page; the first page is shown."
# A record ID as typed in a table's filter: ASCII digits, as ``selection`` reads them.
record_id = RegexValidator(
    r"^[0-9]{1,19}$", "A record ID is a number of at most 19 digits, like 1306462000000496025."
)


class PageField(forms.IntegerField):
    """A page number from the query string; a bad one is dropped (the first page is shown)
    and the page says so."""

    default_error_messages = {"invalid": BAD_PAGE, "min_value": BAD_PAGE}

    def __init__(self, **kwargs) -> None:
        super().__init__(required=False, min_value=1, **kwargs)


class PageForm(forms.Form):
    page = PageField()


class _ConnectionField(forms.ModelChoiceField):
    def to_python(self, value):
        # int() reads "١" as 1: an id in look-alike digits is no connection's id.
        if isinstance(value, str) and not value.isascii():
            raise ValidationError(self.error_messages["invalid_choice"], code="invalid_choice")
        return super().to_python(value)


class ConnectionChoiceForm(forms.Form):
    connection = _ConnectionField(
        queryset=Connection.objects.none(),
        empty_label=None,
        label="CRM connection",
        error_messages={
            "required": "Choose a CRM connection.",
            "invalid_choice": "Choose one of the connected CRMs.",
        },
    )

    def __init__(self, *args, connections, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["connection"].queryset = connections


class NewJobForm(ConnectionChoiceForm):
    module = forms.CharField(max_length=100, error_messages={"required": "Choose a module."})

    def __init__(self, *args, modules: list[dict] | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.modules = modules or []

    def clean_module(self) -> str:
        module = self.cleaned_data["module"]
        if self.modules and module not in {m["api_name"] for m in self.modules}:
            raise ValidationError("Choose one of the modules this connection offers.")
        return module


class FieldChoiceForm(forms.Form):
    field = forms.ChoiceField(label="Field to change")

    def __init__(self, *args, specs: list[FieldSpec], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["field"].choices = [("", "Choose a field…")] + [
            (s.api_name, f"{s.label} ({s.data_type})") for s in specs
        ]


class RemoveChangeForm(forms.Form):
    field = forms.CharField(max_length=100)


class PasteIdsForm(forms.Form):
    ids = forms.CharField(
        label="Record IDs",
        widget=forms.Textarea(attrs={"rows": 8, "spellcheck": "false"}),
        help_text=(
            f"Paste up to {MAX_RECORDS:,} IDs, separated by anything: new lines, commas, "
            "spaces, semicolons. Duplicates are removed."
        ),
        strip=False,
    )


class CsvUploadForm(forms.Form):
    file = forms.FileField(
        label="CSV file",
        help_text="UTF-8 (with or without BOM), separated by , or ;, with a header row.",
    )
    id_column = forms.CharField(
        label="ID column",
        required=False,
        max_length=200,
        help_text="Leave empty to let crmadmin find it.",
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_CSV_BYTES:
            raise ValidationError(
                f"The file is too large ({upload.size / 1024 / 1024:.1f} MB): at most "
                f"{MAX_CSV_BYTES // 1024 // 1024} MB is accepted."
            )
        return upload


class FilterRowForm(forms.Form):
    field = forms.ChoiceField(required=False)
    operator = forms.ChoiceField(required=False)
    value = forms.CharField(required=False, max_length=500)

    def __init__(self, *args, specs: list[FieldSpec], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.specs = {s.api_name: s for s in specs}
        self.fields["field"].choices = [("", "—")] + [(s.api_name, s.label) for s in specs]
        operators = sorted({op for ops in FILTER_OPERATORS.values() for op in ops})
        self.fields["operator"].choices = [(op, OPERATOR_LABELS.get(op, op)) for op in operators]

    def clean(self) -> dict:
        data = super().clean()
        if not data.get("field"):
            return data
        if not data.get("value", "").strip():
            raise ValidationError("Give a value to compare with.")
        return data


class BaseFilterFormSet(forms.BaseFormSet):
    def clean(self) -> None:
        if any(self.errors):
            return
        if not any(f.cleaned_data.get("field") for f in self.forms):
            raise ValidationError("Add at least one condition.")


# absolute_max: a forged TOTAL_FORMS of 1000 is refused without building 1000 forms.
FilterFormSet = forms.formset_factory(
    FilterRowForm,
    formset=BaseFilterFormSet,
    extra=3,
    max_num=5,
    validate_max=True,
    absolute_max=5,
)


class ViewChoiceForm(forms.Form):
    cvid = forms.ChoiceField(
        label="Custom view",
        error_messages={"invalid_choice": "Choose one of the module's custom views."},
    )

    def __init__(self, *args, views: list[dict], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["cvid"].choices = [
            (str(v["id"]), v.get("display_value") or v["name"]) for v in views
        ]


class PreviewFilterForm(forms.Form):
    SHOW = [
        ("all", "All records"),
        ("change", "Will change"),
        ("unchanged", "Already at target"),
        ("conflicts", "Changed since (reverts)"),
        ("not_found", "Not found"),
        ("warnings", "With warnings"),
    ]
    show = forms.ChoiceField(
        choices=SHOW,
        required=False,
        error_messages={"invalid_choice": "Choose one of the listed groups of records."},
    )
    q = forms.CharField(required=False, max_length=20, validators=[record_id], label="Record ID")
    page = PageField()


class IncludeUnchangedForm(forms.Form):
    include = forms.BooleanField(required=False)


class ConfirmForm(forms.Form):
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=2000,
        min_length=5,
        help_text="Why this change? It is kept with the job for the audit.",
    )
    token = forms.UUIDField(
        widget=forms.HiddenInput,
        error_messages={
            "required": "This form is incomplete: reload the page and confirm again.",
            "invalid": "This form is damaged: reload the page and confirm again.",
        },
    )

    def clean_reason(self) -> str:
        reason = self.cleaned_data["reason"]
        # Invisible characters or dots alone pass min_length, and tell the audit nothing.
        if not any(ch.isalnum() for ch in reason):
            raise ValidationError("Write the reason in words.")
        return reason


class ResultsFilterForm(forms.Form):
    code = forms.ChoiceField(
        required=False,
        label="Outcome",
        error_messages={"invalid_choice": "No record of this job has the outcome “%(value)s”."},
    )
    q = forms.CharField(required=False, max_length=20, validators=[record_id], label="Record ID")
    page = PageField()

    def __init__(self, *args, codes: list[str], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["code"].choices = [("", "Any outcome")] + [(c, c) for c in sorted(codes)]


class ExportForm(forms.Form):
    failures = forms.BooleanField(required=False)


class JobListFilterForm(forms.Form):
    status = forms.ChoiceField(choices=[("", "Any status"), *Job.Status.choices], required=False)
    page = PageField()


class DecisionForm(forms.Form):
    """A manager's approval or rejection of a waiting job."""

    decision = forms.ChoiceField(choices=[("approve", "Approve"), ("reject", "Reject")])
    note = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=2000,
        help_text="Kept with the job. Required when rejecting: the owner reads it.",
    )
