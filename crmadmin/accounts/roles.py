"""The roles of crmadmin. Roles are Django groups; code asks about permissions, not names."""

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

OPERATOR = "Operator"
MANAGER = "Manager"


def is_manager(user: AbstractBaseUser | AnonymousUser) -> bool:
    return bool(user.is_authenticated and (user.is_superuser or user.groups.filter(name=MANAGER).exists()))


def role_names(user: AbstractBaseUser | AnonymousUser) -> list[str]:
    if not user.is_authenticated:
        return []
    names = sorted(user.groups.values_list("name", flat=True))
    if user.is_superuser:
        names.append("Admin")
    return names
