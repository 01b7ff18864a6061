from django.db import models


class FailedLogin(models.Model):
    """One refused sign-in, kept for the throttle's window (see ``throttle.py``)."""

    username = models.CharField(max_length=150, db_index=True)
    address = models.GenericIPAddressField(null=True, blank=True, db_index=True)
    at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["at"]

    def __str__(self) -> str:
        return f"{self.username} from {self.address or 'an unknown address'} at {self.at:%c}"
