"""Form fields shared by the apps."""

from typing import Any

from django import forms
from django.core.exceptions import ValidationError

DIGITS_ERROR = "Type it with the digits 0 to 9 (“%(digit)s” is not one of them)."


class PlainDigitsMixin:
    """Numbers and dates typed with the digits 0 to 9 only.

    Python reads Arabic-Indic, full-width and other Unicode digits as 0 to 9 (``int("٤٢")``
    is 42), so a look-alike would be sent as a number the user may not have meant; record
    IDs refuse them too. The message names the odd digit.
    """

    def to_python(self, value: Any) -> Any:
        if isinstance(value, str):
            odd = next((ch for ch in value if ch.isdigit() and not ch.isascii()), None)
            if odd is not None:
                raise ValidationError(DIGITS_ERROR, code="digits", params={"digit": odd})
        return super().to_python(value)


class PlainIntegerField(PlainDigitsMixin, forms.IntegerField):
    pass


class PlainDecimalField(PlainDigitsMixin, forms.DecimalField):
    pass


class PlainDateField(PlainDigitsMixin, forms.DateField):
    pass


class PlainDateTimeField(PlainDigitsMixin, forms.DateTimeField):
    pass
