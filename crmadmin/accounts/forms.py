from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm

from . import throttle


class ThrottledLoginMixin:
    """Refuses sign-ins while the account or address is locked, and counts refusals."""

    def clean(self):
        username = self.cleaned_data.get("username") or ""
        address = throttle.client_address(self.request)
        lock = throttle.lockout(username, address)
        if lock is not None:
            minutes = lock.minutes_left
            raise forms.ValidationError(
                "Too many failed sign-ins. For your safety, signing in is paused: "
                f"try again in {minutes} minute{'s' if minutes != 1 else ''}, "
                "or ask an administrator to lift the pause.",
                code="throttled",
            )
        try:
            cleaned = super().clean()
        except forms.ValidationError as error:
            if any(e.code == "invalid_login" for e in error.error_list):
                throttle.record_failure(username, address)
            raise
        throttle.forget_failures(username)
        return cleaned


class LoginForm(ThrottledLoginMixin, AuthenticationForm):
    pass


class AdminLoginForm(ThrottledLoginMixin, AdminAuthenticationForm):
    pass
