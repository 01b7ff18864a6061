"""The new value of one CRM field: its rules from Zoho's metadata, its form, and comparisons.

Pure: no models and no HTTP. A ``FieldSpec`` is read from one entry of
``GET /settings/fields``; a ``ValueForm`` checks what the operator typed against it and
yields a ``Change`` holding the JSON value that ``mass_update`` will send; the preview
uses ``after_value``, ``is_same`` and ``display_value`` on each record's current value.
"""

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone

from crmadmin.formfields import (
    PlainDateField,
    PlainDateTimeField,
    PlainDecimalField,
    PlainIntegerField,
)

TEXT_TYPES = {"text", "phone", "website"}
INTEGER_TYPES = {"integer", "bigint"}
DECIMAL_TYPES = {"double", "currency", "percent"}
SUPPORTED_TYPES = {
    *TEXT_TYPES,
    *INTEGER_TYPES,
    *DECIMAL_TYPES,
    "picklist",
    "multiselectpicklist",
    "date",
    "datetime",
    "boolean",
}
INTEGER_MAX = 2_147_483_647
BIGINT_MAX = 2**63 - 1
# Zoho stores decimals as binary floating point: up to 15 significant digits survive the
# trip exactly, more could be saved as a slightly different number than the one typed.
SIGNIFICANT_DIGITS = 15
NONE_CHOICE = "-None-"

REPLACE = "replace"
ADD = "add"
MODE_CHOICES = [(REPLACE, "Replace the current values"), (ADD, "Add to the current values")]
# How a chosen mode reads wherever a change is shown.
MODE_TEXT = {REPLACE: "replacing the current values", ADD: "added to the current values"}
BOOLEAN_CHOICES = [("true", "Yes"), ("false", "No")]

CHOICE_ERROR = "Choose one of the field's values (“%(value)s” is not one)."


@dataclass(frozen=True)
class FieldSpec:
    """What a field accepts, as its metadata says; stored as JSON with drafts and jobs."""

    api_name: str
    label: str
    data_type: str
    max_length: int | None = None
    decimal_place: int | None = None
    mandatory: bool = False
    choices: tuple[tuple[str, str], ...] = ()

    @classmethod
    def from_metadata(cls, meta: dict) -> "FieldSpec":
        decimal_place = meta.get("decimal_place")
        if decimal_place is None:
            decimal_place = (meta.get("currency") or {}).get("precision")
        return cls(
            api_name=meta["api_name"],
            label=meta.get("field_label") or meta.get("display_label") or meta["api_name"],
            data_type=meta["data_type"],
            max_length=meta.get("length"),
            decimal_place=decimal_place,
            mandatory=bool(meta.get("system_mandatory")),
            choices=tuple(
                (v["actual_value"], v.get("display_value") or v["actual_value"])
                for v in meta.get("pick_list_values") or []
                if v.get("type") != "unused" and v["actual_value"] != NONE_CHOICE
            ),
        )

    @classmethod
    def from_dict(cls, data: dict) -> "FieldSpec":
        return cls(**{**data, "choices": tuple(tuple(c) for c in data.get("choices", ()))})

    def as_dict(self) -> dict:
        return {
            "api_name": self.api_name,
            "label": self.label,
            "data_type": self.data_type,
            "max_length": self.max_length,
            "decimal_place": self.decimal_place,
            "mandatory": self.mandatory,
            "choices": [list(c) for c in self.choices],
        }

    @property
    def supported(self) -> bool:
        return self.data_type in SUPPORTED_TYPES

    @property
    def can_clear(self) -> bool:
        # A Zoho checkbox is always true or false: "empty" would only be a confusing "No".
        return not self.mandatory and self.data_type != "boolean"


def specs_from_metadata(fields: list[dict]) -> list[FieldSpec]:
    """The fields this app knows how to edit, in the order given."""
    specs = [FieldSpec.from_metadata(meta) for meta in fields]
    return [spec for spec in specs if spec.supported]


@dataclass(frozen=True)
class Change:
    """One field's new value, exactly as ``mass_update`` sends it; None empties the field."""

    field: str
    value: Any
    mode: str = ""

    @property
    def over_write(self) -> bool | None:
        return {REPLACE: True, ADD: False}.get(self.mode)

    @classmethod
    def from_dict(cls, data: dict) -> "Change":
        return cls(field=data["field"], value=data["value"], mode=data.get("mode", ""))

    def as_dict(self) -> dict:
        return {"field": self.field, "value": self.value, "mode": self.mode}


class ValueForm(forms.Form):
    """The new value of one field; ``change()`` after ``is_valid()``."""

    def __init__(
        self,
        spec: FieldSpec,
        data: Any = None,
        initial: dict | None = None,
        prefix: str | None = None,
    ) -> None:
        if not spec.supported:
            raise ValueError(f"{spec.api_name}: {spec.data_type} fields cannot be edited here")
        super().__init__(data=data, initial=initial, prefix=prefix)
        self.spec = spec
        # With a "clear" box, an empty value is an error only when the box is not ticked,
        # which clean() decides; the fields themselves cannot know.
        required = not spec.can_clear
        self.fields["value"] = _value_field(spec, required=required)
        if spec.data_type == "multiselectpicklist":
            self.fields["mode"] = forms.ChoiceField(
                label="How",
                choices=MODE_CHOICES,
                widget=forms.RadioSelect,
                required=required,
                error_messages={"required": "Choose whether to replace or add to the values."},
            )
        if spec.can_clear:
            self.fields["clear"] = forms.BooleanField(
                label="Clear this field (set it empty)", required=False
            )

    def clean_value(self) -> Any:
        value = self.cleaned_data["value"]
        if isinstance(value, Decimal):
            _check_decimal(self.spec, value)
        elif self.spec.data_type == "multiselectpicklist" and value:
            _check_multiselect_length(self.spec, value)
        elif self.spec.data_type == "datetime" and value:
            _check_instant(value)
        return value

    def clean(self) -> dict:
        cleaned = super().clean()
        clear = cleaned.get("clear", False)
        if not clear and cleaned.get("mode") == "":
            self.add_error("mode", "Choose whether to replace or add to the values.")
        if "value" not in cleaned:
            return cleaned  # already refused
        empty = cleaned["value"] in forms.Field.empty_values
        if clear and not empty:
            self.add_error("value", "Either enter a value or tick “Clear this field”, not both.")
        elif not clear and empty:
            self.add_error("value", "Enter a value, or tick “Clear this field” to empty it.")
        return cleaned

    def change(self) -> Change:
        cleaned = self.cleaned_data
        mode = ""
        if self.spec.data_type == "multiselectpicklist":
            # Emptying a multi-select replaces its values with none; there is nothing to add.
            mode = REPLACE if cleaned.get("clear") else cleaned["mode"]
        value = None if cleaned.get("clear") else _to_json(self.spec, cleaned["value"])
        return Change(field=self.spec.api_name, value=value, mode=mode)


def _value_field(spec: FieldSpec, *, required: bool) -> forms.Field:
    kind = spec.data_type
    required_message = (
        "Enter a value: this field is mandatory and cannot be emptied."
        if spec.mandatory
        else "Enter a value."
    )
    common = {"label": spec.label, "required": required}
    messages = {"required": required_message}
    if kind == "picklist":
        return forms.ChoiceField(
            choices=[("", "Choose a value"), *spec.choices],
            error_messages={**messages, "invalid_choice": CHOICE_ERROR},
            **common,
        )
    if kind == "multiselectpicklist":
        return forms.MultipleChoiceField(
            choices=spec.choices,
            widget=forms.CheckboxSelectMultiple,
            error_messages={
                **messages,
                "required": "Tick at least one value.",
                "invalid_choice": CHOICE_ERROR,
                "invalid_list": "Choose one or more of the field's values.",
            },
            **common,
        )
    if kind in INTEGER_TYPES:
        high = INTEGER_MAX if kind == "integer" else BIGINT_MAX
        if spec.max_length:
            high = min(high, 10**spec.max_length - 1)
        return PlainIntegerField(
            min_value=-high,
            max_value=high,
            error_messages={
                **messages,
                "invalid": "Enter a whole number, like 42.",
                "max_value": f"At most {high:,}.",
                "min_value": f"At least {-high:,}.",
            },
            **common,
        )
    if kind in DECIMAL_TYPES:
        step = "any" if spec.decimal_place is None else str(Decimal(1).scaleb(-spec.decimal_place))
        return PlainDecimalField(
            widget=forms.NumberInput(attrs={"step": step}),
            error_messages={**messages, "invalid": "Enter a number, like 1250 or 1250.50."},
            **common,
        )
    if kind == "date":
        return PlainDateField(
            input_formats=["%Y-%m-%d"],
            widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            error_messages={
                **messages,
                "invalid": "Enter a real date as YYYY-MM-DD, like 2026-11-26.",
            },
            **common,
        )
    if kind == "datetime":
        return PlainDateTimeField(
            input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"],
            widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
            error_messages={
                **messages,
                "invalid": "Enter a real date and time as YYYY-MM-DDTHH:MM, like 2026-11-26T10:30.",
            },
            **common,
        )
    if kind == "boolean":
        return forms.ChoiceField(
            choices=BOOLEAN_CHOICES,
            widget=forms.RadioSelect,
            error_messages={"required": "Choose Yes or No.", "invalid_choice": "Choose Yes or No."},
            **common,
        )
    return forms.CharField(
        max_length=spec.max_length,
        error_messages={
            **messages,
            "max_length": "At most %(limit_value)d characters (this has %(show_value)d).",
        },
        **common,
    )


def _check_decimal(spec: FieldSpec, value: Decimal) -> None:
    decimals, significant = _decimal_places(value), _significant_digits(value)
    # adjusted() counts digits without building the number: "1e999999" must not hang us.
    whole = value.adjusted() + 1 if value.adjusted() >= 0 else 0
    errors = []
    if spec.max_length is not None and whole > spec.max_length:
        errors.append(
            f"At most {spec.max_length} digits before the decimal point (this has {whole})."
        )
    if spec.decimal_place is not None and decimals > spec.decimal_place:
        if spec.decimal_place == 0:
            errors.append(f"Whole numbers only (this has {_plural(decimals, 'decimal place')}).")
        else:
            errors.append(
                f"At most {_plural(spec.decimal_place, 'decimal place')} (this has {decimals})."
            )
    if not errors and significant > SIGNIFICANT_DIGITS:
        errors.append(
            f"At most {SIGNIFICANT_DIGITS} digits in all, or the CRM would round the number "
            f"(this has {significant})."
        )
    if errors:
        raise ValidationError(errors)


def _check_instant(value: dt.datetime) -> None:
    # An offset moves the moment: 9999-12-31T23:59-12:00 is past the year 9999 in UTC.
    try:
        timezone.localtime(value)
    except OverflowError:
        raise ValidationError("This date and time is out of range.") from None


def _check_multiselect_length(spec: FieldSpec, values: list[str]) -> None:
    # Zoho stores the chosen values as one "a;b;c" string, limited by the field's length.
    used = len(";".join(values))
    if spec.max_length is not None and used > spec.max_length:
        raise ValidationError(
            f"Too many values: at most {spec.max_length} characters together (this has {used})."
        )


def _decimal_places(value: Decimal) -> int:
    # Trailing zeros carry no meaning: "10.50" has one decimal place that counts. Counted
    # from the digits, as normalize() would overflow on "1e999999999".
    _, digits, exponent = value.as_tuple()
    assert isinstance(exponent, int)  # callers pass finite numbers only
    trailing_zeros = len(digits) - len("".join(map(str, digits)).rstrip("0"))
    return max(0, -(exponent + trailing_zeros))


def _significant_digits(value: Decimal) -> int:
    return len("".join(map(str, value.as_tuple().digits)).strip("0"))


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def _to_json(spec: FieldSpec, value: Any) -> Any:
    kind = spec.data_type
    if kind == "multiselectpicklist":
        return list(value)
    if kind in INTEGER_TYPES:
        return int(value)
    if kind in DECIMAL_TYPES:
        return int(value) if value == value.to_integral_value() else float(value)
    if kind == "date":
        return value.isoformat()
    if kind == "datetime":
        if timezone.is_naive(value):
            value = timezone.make_aware(value)
        return timezone.localtime(value).isoformat(timespec="seconds")
    if kind == "boolean":
        return value == "true"
    return value


# --- Comparing a record's value with the target, for the preview ----------------------


def after_value(spec: FieldSpec, change: Change, before: Any) -> Any:
    """What the record will hold once the change is applied, as Zoho applies it."""
    if spec.data_type == "multiselectpicklist" and change.value is not None:
        if change.mode == ADD and isinstance(before, list | tuple):
            return list(dict.fromkeys([*before, *change.value]))
        return list(change.value)
    return change.value


def is_same(spec: FieldSpec, before: Any, after: Any) -> bool:
    """Whether a record already holds the target value, so updating it would change nothing."""
    if _is_empty(spec, before) or _is_empty(spec, after):
        return _is_empty(spec, before) and _is_empty(spec, after)
    kind = spec.data_type
    if kind in INTEGER_TYPES or kind in DECIMAL_TYPES:
        before_number, after_number = _as_decimal(before), _as_decimal(after)
        if before_number is not None and after_number is not None:
            return before_number == after_number
    elif kind == "datetime":
        before_instant, after_instant = _as_instant(before), _as_instant(after)
        if before_instant is not None and after_instant is not None:
            return before_instant == after_instant
    elif kind == "multiselectpicklist":
        if isinstance(before, list | tuple) and isinstance(after, list | tuple):
            return set(before) == set(after)
    elif kind == "boolean":
        return isinstance(before, bool) and isinstance(after, bool) and before == after
    return before == after


def display_value(spec: FieldSpec, value: Any) -> str:
    """The value as people read it, in tables and CSV files."""
    if _is_empty(spec, value):
        return ""
    kind = spec.data_type
    labels = dict(spec.choices)
    if kind == "multiselectpicklist" and isinstance(value, list | tuple):
        return "; ".join(labels.get(v, str(v)) for v in value)
    if kind == "picklist":
        return labels.get(value, str(value))
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if kind in INTEGER_TYPES or kind in DECIMAL_TYPES:
        number = _as_decimal(value)
        if number is not None:
            return _number_text(spec, number)
    return str(value)


def _is_empty(spec: FieldSpec, value: Any) -> bool:
    if spec.data_type == "picklist" and value == NONE_CHOICE:
        return True
    return value is None or value == "" or value == [] or value == ()


def _as_decimal(value: Any) -> Decimal | None:
    if isinstance(value, bool):
        return None
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def _as_instant(value: Any) -> dt.datetime | None:
    if isinstance(value, dt.datetime):
        parsed = value
    else:
        try:
            parsed = dt.datetime.fromisoformat(str(value))
        except ValueError:
            return None
    return parsed if timezone.is_aware(parsed) else None


def _number_text(spec: FieldSpec, number: Decimal) -> str:
    places = spec.decimal_place
    if places is not None and _decimal_places(number) <= places:
        # Show money as money: 1250.5 with two decimal places reads "1250.50".
        return f"{number:.{places}f}"
    return f"{number.normalize():f}"
