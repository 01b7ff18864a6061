"""The roles of crmadmin. Roles are Django groups; code asks about permissions, not names.

``ROLE_PERMISSIONS`` is the current truth. Migration ``accounts.0001_roles`` created the
groups; ``sync_roles`` (run after every ``migrate`` and test-database flush) keeps them in
line with this table as apps add permissions.
"""

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser, Group, Permission

OPERATOR = "Operator"
MANAGER = "Manager"

_OPERATOR_PERMISSIONS = ["zoho.view_connection", "zoho.use_connection", "massupdate.add_job"]
ROLE_PERMISSIONS: dict[str, list[str]] = {
    OPERATOR: _OPERATOR_PERMISSIONS,
    # A manager does everything an operator does, plus:
    MANAGER: [
        *_OPERATOR_PERMISSIONS,
        "massupdate.view_all_jobs",
        "massupdate.approve_job",
        "massupdate.review_job",
        "zoho.add_connection",
        "zoho.change_connection",
        "zoho.delete_connection",
        # The built-in sandbox's API console, where its OAuth clients are registered.
        "sandbox.add_oauthclient",
    ],
}


def sync_roles(**kwargs) -> None:
    """Create the role groups if missing and give them exactly their permissions."""
    for role, perms in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=role)
        wanted = []
        for dotted in perms:
            app_label, codename = dotted.split(".")
            permission = Permission.objects.filter(
                content_type__app_label=app_label, codename=codename
            ).first()
            if permission is not None:  # its app may not be migrated yet
                wanted.append(permission)
        group.permissions.set(wanted)


def role_names(user: AbstractBaseUser | AnonymousUser) -> list[str]:
    if not user.is_authenticated:
        return []
    names = sorted(user.groups.values_list("name", flat=True))
    if user.is_superuser:
        names.append("Admin")
    return names
